// A suite whose extension host dies in the middle (SIGABRT, as it did when a worker was terminated
// inside a native run): test/harness.test.ts runs it to prove the launcher then fails.
export async function run(): Promise<void> {
  await new Promise((r) => setTimeout(r, 500)); // the host is up and reporting by now
  process.abort();
}
