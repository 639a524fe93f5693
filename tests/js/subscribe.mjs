// A graphql-ws client (what Apollo and urql use for subscriptions) against a fraiseql server:
// node subscribe.mjs URL QUERY COUNT prints COUNT results of QUERY, one JSON line each, then
// the result of a query over the same socket; an error or a close is printed as {"error": ...}.
import { createClient } from "graphql-ws";
import WebSocket from "ws";

const [url, query, count] = process.argv.slice(2);
const client = createClient({
  url,
  webSocketImpl: WebSocket,
  connectionParams: { token: "node" },
  retryAttempts: 0,
});
const print = (value) => process.stdout.write(JSON.stringify(value) + "\n");
try {
  let seen = 0;
  const subscription = client.iterate({ query });
  for await (const result of subscription) {
    print(result);
    if (++seen === Number(count)) break; // returns: the client sends complete
  }
  for await (const result of client.iterate({ query: "{ user(id: 2) { firstName } }" })) {
    print(result);
  }
} catch (error) {
  // the protocol's error message rejects with its GraphQLError[]; a close with the event
  const reported = Array.isArray(error) ? error : error.code ? { code: error.code, reason: error.reason } : String(error);
  print({ error: reported });
} finally {
  await client.dispose();
}
