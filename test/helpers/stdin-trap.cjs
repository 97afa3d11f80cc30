// `node -r ./test/helpers/stdin-trap.cjs …`: prints "dsguard-test: stdin read" on stderr when the process first
// reads process.stdin (Node builds the stream on that first read). Used to check a command over files never
// builds it.
const descriptor = Object.getOwnPropertyDescriptor(process, 'stdin');
Object.defineProperty(process, 'stdin', {
  configurable: true,
  enumerable: descriptor.enumerable,
  get() {
    require('node:fs').writeSync(2, 'dsguard-test: stdin read\n');
    Object.defineProperty(process, 'stdin', descriptor);
    return descriptor.get.call(process);
  },
});
