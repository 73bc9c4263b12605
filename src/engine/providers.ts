// Execution-provider selection. onnxruntime-node throws when the first provider in a list cannot
// load instead of falling back, so each candidate gets its own attempt and failures are recorded
// (shown to the user as the reason a GPU is not in use).
import * as fs from 'node:fs';
import * as path from 'node:path';
import type * as ortTypes from 'onnxruntime-node';

export const PROVIDER_CHOICES = ['auto', 'cpu', 'cuda', 'webgpu', 'dml', 'coreml'] as const;
export type ProviderChoice = (typeof PROVIDER_CHOICES)[number];

export interface ProviderAttempt { provider: string; ok: boolean; reason?: string; ms: number }

export interface OpenedSession { session: ortTypes.InferenceSession; provider: string; attempts: ProviderAttempt[] }

/** GPU providers worth trying on this platform, best first. */
export function gpuCandidates(platform: NodeJS.Platform = process.platform): string[] {
  if (platform === 'win32') return ['dml', 'webgpu'];
  if (platform === 'darwin') return ['coreml', 'webgpu'];
  return ['cuda', 'webgpu'];
}

/** CUDA needs provider libraries that onnxruntime-node only downloads on request (see README). */
export function cudaProviderInstalled(ortRoot: string): boolean {
  const dir = path.join(ortRoot, 'bin', 'napi-v6', 'linux', process.arch);
  return fs.existsSync(path.join(dir, 'libonnxruntime_providers_cuda.so'));
}

/** WebGPU on Linux goes through Vulkan; without the loader Dawn only prints warnings and fails. */
export function vulkanLoaderPresent(): boolean {
  const dirs = [...(process.env.LD_LIBRARY_PATH ?? '').split(':').filter(Boolean),
    `/usr/lib/${process.arch === 'arm64' ? 'aarch64' : 'x86_64'}-linux-gnu`, '/usr/lib64', '/usr/lib', '/lib64', '/usr/local/lib'];
  return dirs.some((d) => fs.existsSync(path.join(d, 'libvulkan.so.1')));
}

export function candidates(choice: ProviderChoice, ortRoot: string, platform: NodeJS.Platform = process.platform): { try: string[]; passed: ProviderAttempt[] } {
  const passed: ProviderAttempt[] = [];
  let list: string[];
  if (choice === 'auto') {
    list = gpuCandidates(platform).filter((p) => {
      if (p === 'cuda' && !cudaProviderInstalled(ortRoot)) {
        passed.push({ provider: 'cuda', ok: false, reason: 'CUDA provider files are not installed (see README: GPU on Linux)', ms: 0 });
        return false;
      }
      if (p === 'webgpu' && platform === 'linux' && !vulkanLoaderPresent()) {
        passed.push({ provider: 'webgpu', ok: false, reason: 'the Vulkan loader (libvulkan.so.1) is not installed', ms: 0 });
        return false;
      }
      return true;
    });
  } else {
    list = choice === 'cpu' ? [] : [choice];
  }
  return { try: [...list, 'cpu'], passed };
}

export async function openSession(
  ort: typeof ortTypes,
  modelPath: string,
  choice: ProviderChoice,
  options: ortTypes.InferenceSession.SessionOptions,
): Promise<OpenedSession> {
  const ortRoot = path.dirname(require.resolve('onnxruntime-node/package.json'));
  const plan = candidates(choice, ortRoot);
  const attempts = [...plan.passed];
  for (const provider of plan.try) {
    const t0 = performance.now();
    try {
      const session = await ort.InferenceSession.create(modelPath, { ...options, executionProviders: [provider] });
      attempts.push({ provider, ok: true, ms: performance.now() - t0 });
      return { session, provider, attempts };
    } catch (e) {
      attempts.push({ provider, ok: false, reason: String((e as Error).message ?? e).split('\n')[0].slice(0, 300), ms: performance.now() - t0 });
      if (provider === 'cpu') throw e;
    }
  }
  throw new Error('unreachable: the CPU provider is always tried last');
}
