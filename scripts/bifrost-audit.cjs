#!/usr/bin/env node
// @swc-node/register compiles with the tsconfig of the working directory unless told otherwise:
// from anywhere but the repository's root the decorators would not compile (exit 1, which the
// CLI's contract means "the audit log is broken"). Point it at the repository's own.
process.env.SWC_NODE_PROJECT ??= require('node:path').join(__dirname, '..', 'tsconfig.json');
require('@swc-node/register');
require('../apps/projector/src/cli/bifrost-audit.ts');
