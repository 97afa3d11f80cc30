// A test stand-in for dist/analyze/analyze-worker.js: the real worker process, except that an input whose name
// holds "exit-me" makes the process exit, one holding "oom-me" makes it exhaust its V8 heap (the pool starts
// it with --max-old-space-size), and one holding "loop-me" spins on the CPU for ever, before any reply. The real worker's listener is attached first (by the
// import); this one runs right after it, in the same tick, and never lets it reply.
await import('../../dist/analyze/analyze-worker.js');
process.on('message', (request) => {
  if (!request.job) return;
  if (request.job.input.includes('exit-me')) process.exit(7);
  if (request.job.input.includes('loop-me')) {
    let x = 0;
    for (;;) x = (x * 31 + 7) % 1_000_003;
  }
  if (request.job.input.includes('oom-me')) {
    // Small arrays, kept: V8's near-heap-limit path, then its fatal "heap out of memory" abort.
    const hog = [];
    for (;;) hog.push(new Array(1000).fill(hog.length + 0.5));
  }
});
