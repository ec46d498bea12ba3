// orval's configuration for this check: the fetch client, with a small mutator (lenz-fetch.ts)
// that adds the base URL and the bearer token, as a frontend app's own fetch wrapper would.
module.exports = {
  lenz: {
    input: { target: process.env.LENZ_SPEC ?? "../../../openapi/lenz-workflows.yaml" },
    output: {
      target: "generated/lenz.ts",
      client: "fetch",
      mode: "single",
      override: { mutator: { path: "./lenz-fetch.ts", name: "lenzFetch" } },
    },
  },
};
