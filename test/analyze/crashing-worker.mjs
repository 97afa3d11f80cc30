// A test stand-in for dist/analyze/analyze-worker.js: the real worker, except that an input whose name holds
// "exit-me" makes the thread exit and one holding "oom-me" makes it run out of heap, before any reply.
// The real worker's listener is attached first (by the import); this one runs right after it, in the same tick.
// The heap is filled with small arrays: V8's near-heap-limit path, which Node turns into ERR_WORKER_OUT_OF_MEMORY.
// (One huge allocation failing aborts the whole process instead, whatever resourceLimits say: that is why
// attachments are decoded in a separate process, src/content/sandbox.ts.)
import { parentPort } from 'node:worker_threads';

await import('../../dist/analyze/analyze-worker.js');
parentPort.on('message', (job) => {
  if (job.input.includes('exit-me')) process.exit(7);
  if (job.input.includes('oom-me')) {
    const hog = [];
    for (;;) hog.push(new Array(1000).fill(hog.length + 0.5));
  }
});
