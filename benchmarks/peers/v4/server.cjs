// PostGraphile v4 peer of `make bench-peers`: the tb_ tables of the blog (schema public) with
// postgraphile-plugin-connection-filter 2, one Node process, GraphQL at /graphql.
// Env: FRAISEQL_BENCH_DSN (the database), PORT. Installed by v4/package.json.
const http = require("node:http");
const { postgraphile } = require("postgraphile");
const ConnectionFilterPlugin = require("postgraphile-plugin-connection-filter");

const middleware = postgraphile(process.env.FRAISEQL_BENCH_DSN, "public", {
  appendPlugins: [ConnectionFilterPlugin],
  graphqlRoute: "/graphql",
  graphiql: false,
  disableQueryLog: true,
  retryOnInitFail: false,
  watchPg: false,
  setofFunctionsContainNulls: false,
});
http.createServer(middleware).listen(Number(process.env.PORT), "127.0.0.1");
