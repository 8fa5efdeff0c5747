'use strict'
// ESLint for the JavaScript side (npm run lint:js): the recommended rules, on CommonJS for Node.
const js = require('@eslint/js')
const globals = require('globals')

module.exports = [
  // builds, the platform packages and what benches write; examples' own installs
  { ignores: ['native/', 'target/', 'npm/', 'bench-out/', '**/node_modules/'] },
  js.configs.recommended,
  {
    files: ['**/*.js'],
    languageOptions: {
      // the oldest Node we support (20) parses up to ES2024: newer syntax fails here, not there
      ecmaVersion: 2024,
      sourceType: 'commonjs',
      globals: globals.node,
    },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      // `const { file, ...rest } = o` is how this code leaves a key out of a copy
      'no-unused-vars': ['error', { ignoreRestSiblings: true }],
    },
  },
]
