// PostGraphile v5 peer of `make bench-peers`: the tb_ tables of the blog (schema public) with
// postgraphile-plugin-connection-filter's v5 release, one Node process, GraphQL at /graphql.
// Env: FRAISEQL_BENCH_DSN (the database), PORT; run with Node 22 (node_modules/.bin/node).
import { createServer } from "node:http";
import { postgraphile } from "postgraphile";
import { makePgService } from "postgraphile/adaptors/pg";
import { grafserv } from "postgraphile/grafserv/node";
import { PostGraphileAmberPreset } from "postgraphile/presets/amber";
import { PostGraphileConnectionFilterPreset } from "postgraphile-plugin-connection-filter";

const port = Number(process.env.PORT);
const preset = {
  extends: [PostGraphileAmberPreset, PostGraphileConnectionFilterPreset],
  pgServices: [
    makePgService({ connectionString: process.env.FRAISEQL_BENCH_DSN, schemas: ["public"] }),
  ],
  grafserv: { host: "127.0.0.1", port, graphqlPath: "/graphql", graphiql: false, watch: false },
  grafast: { explain: false },
};

const serv = postgraphile(preset).createServ(grafserv);
const server = createServer();
server.on("error", (e) => {
  console.error(e);
  process.exit(1);
});
serv.addTo(server).then(
  () => server.listen(port, "127.0.0.1"),
  (e) => {
    console.error(e);
    process.exit(1);
  },
);
