// Keeps onnxruntime-node's telemetry off. 1.30.0 otherwise keeps an event store (model file and
// graph names, OS, errors, a device id) in ~/.cache/Microsoft/DeveloperTools/.onnxruntime and
// contacts a Microsoft telemetry host, unless ORT_DISABLE_TELEMETRY is set when it starts.
// Import this module first in every entry point, before anything that loads onnxruntime-node.
//
// onnxruntime reads the variable with getenv(), and only the main thread's process.env writes
// the real environment: a worker's process.env is a copy. So the main thread sets it (and the
// worker inherits it), and a worker refuses to go on without it rather than send telemetry.
import { isMainThread } from 'node:worker_threads';

if (isMainThread) process.env.ORT_DISABLE_TELEMETRY = '1';
else if (process.env.ORT_DISABLE_TELEMETRY !== '1') {
  throw new Error('ORT_DISABLE_TELEMETRY is not set in this worker: the thread that started it must import engine/telemetry first, or onnxruntime would record telemetry.');
}
