// Builds better-sqlite3 against the headers of the Node.js that runs pnpm, when
// that installation ships them (Debian's nodejs and the official tarballs do),
// instead of downloading them: build machines here reach only the registries.
const fs = require("node:fs");
const path = require("node:path");

const nodeDir = path.resolve(path.dirname(process.execPath), "..");
const hasHeaders = fs.existsSync(path.join(nodeDir, "include", "node", "node.h"));

module.exports = {
  hooks: {
    updateConfig(config) {
      if (!hasHeaders || process.env.npm_config_nodedir) return config;
      return { ...config, extraEnv: { ...config.extraEnv, npm_config_nodedir: nodeDir } };
    },
  },
};
