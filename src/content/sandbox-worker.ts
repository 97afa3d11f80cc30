/**
 * Worker thread of the content sandbox: runs one decoding request at a time and posts the result. It is
 * started with V8 heap limits and terminated (never awaited) by its owner when a request passes the deadline.
 * @module
 */
import { parentPort } from 'node:worker_threads';
import { runSandboxOp, type SandboxRequest } from './sandbox-ops.js';

const port = parentPort;
if (!port) throw new Error('sandbox-worker must run in a worker thread');

port.on('message', async (req: SandboxRequest) => {
  try {
    port.postMessage({ value: await runSandboxOp(req) });
  } catch (error) {
    port.postMessage({ error: error instanceof Error ? error.message : String(error) });
  }
});
