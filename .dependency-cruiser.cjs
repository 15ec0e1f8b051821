// Run by `npm run lint`: no import cycles in src/, counting `import type` and `import()` as edges (a
// cycle through types or a lazy import still ties the modules' designs together).
module.exports = {
  forbidden: [
    {name: 'no-circular', severity: 'error', comment: 'Import cycle', from: {path: '^src'}, to: {circular: true}},
  ],
  options: {
    doNotFollow: {path: 'node_modules'},
    tsPreCompilationDeps: true,
    tsConfig: {fileName: 'tsconfig.json'},
  },
}
