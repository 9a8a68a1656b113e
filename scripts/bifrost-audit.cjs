#!/usr/bin/env node
require('@swc-node/register');
require('../apps/projector/src/cli/bifrost-audit.ts');
