"""The GraphiQL page served to browsers at the GraphQL path, and where its assets come from.

The page loads React and GraphiQL (by default from unpkg.com, or from `graphiql_assets=`,
a base URL or path of the user's own host) one after the other; when one fails or nothing
arrives within ASSET_TIMEOUT seconds, it says which URL and how to serve the files locally.
"""

from __future__ import annotations

import html
import json

# unpkg paths of the default assets, in load order; their file names are the local layout.
ASSETS = (
    "graphiql@3/graphiql.min.css",
    "react@18/umd/react.production.min.js",
    "react-dom@18/umd/react-dom.production.min.js",
    "graphiql@3/graphiql.min.js",
)
CDN = "https://unpkg.com/"
ASSET_TIMEOUT = 10  # seconds: a CDN that never answers must not leave a blank page

_PAGE = """<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>fraiseql GraphiQL</title>
  <style>
    body { margin: 0; height: 100vh; font-family: sans-serif; }
    #graphiql { height: 100vh; }
    #graphiql > p { margin: 0; padding: 2em; max-width: 50em; line-height: 1.4; }
  </style>
</head>
<body>
  <div id="graphiql"><p>Loading GraphiQL from @ORIGIN@...</p></div>
  <noscript>GraphiQL needs JavaScript; the GraphQL endpoint answers POST requests.</noscript>
  <script>
    const config = @CONFIG@;
    const root = document.getElementById("graphiql");
    let pending = config.assets[0], failed = false;
    function fail(text) {
      if (failed) return;  // the first failure is the one to report
      failed = true;
      const p = document.createElement("p");
      p.id = "fraiseql-graphiql-error";
      p.textContent = text;
      root.replaceChildren(p);
    }
    function assetFailed(url, why) {
      clearTimeout(timer);
      fail("GraphiQL could not be loaded: its assets could not be loaded from " + url +
           " (" + why + "). " + config.help);
    }
    const timer = setTimeout(
      () => assetFailed(pending, "no answer within " + config.timeout + " seconds"),
      config.timeout * 1000);
    function start() {
      clearTimeout(timer);
      try {
        const fetcher = GraphiQL.createFetcher({ url: config.endpoint });
        ReactDOM.createRoot(root).render(React.createElement(GraphiQL, { fetcher }));
      } catch (err) {
        fail("GraphiQL failed to start: " + err + ". " + config.help);
      }
    }
    function load(i) {
      if (i === config.assets.length) return start();
      const url = pending = config.assets[i];
      const css = url.endsWith(".css");
      const el = document.createElement(css ? "link" : "script");
      if (css) { el.rel = "stylesheet"; el.href = url; } else { el.src = url; }
      el.onload = () => load(i + 1);
      el.onerror = () => assetFailed(css ? el.href : el.src, "the request failed");
      document.head.appendChild(el);
    }
    load(0);
  </script>
</body>
</html>
"""


def check_assets(assets: object) -> None:
    """Refuse a `graphiql_assets=` that is not a URL or path (None means unpkg.com)."""
    if assets is None:
        return
    if not isinstance(assets, str):
        raise TypeError(
            f"graphiql_assets must be a base URL or path (str) or None, got {type(assets).__name__}"
        )
    if not assets.strip():
        raise ValueError("graphiql_assets must be a base URL or path, got an empty string")


def _file_name(path: str) -> str:
    return path.rsplit("/", 1)[1]


def _source(assets: str | None) -> str:
    """Where the page says it loads the assets from."""
    return CDN.rstrip("/").split("//", 1)[1] if assets is None else assets


def _asset_urls(assets: str | None) -> list[str]:
    """The URLs the page loads: unpkg by default, else `assets`/<file name> for each asset."""
    if assets is None:
        return [CDN + path for path in ASSETS]
    base = assets.rstrip("/")
    return [f"{base}/{_file_name(path)}" for path in ASSETS]


def _help(assets: str | None) -> str:
    files = ", ".join(_file_name(path) for path in ASSETS)
    return (
        f"This page loads them from {_source(assets)}. To serve them from your own host, put {files} "
        "in one directory, serve it (for example with Starlette's StaticFiles) and pass its "
        'URL or path as create_app(graphiql_assets="/static/graphiql"). '
        "The GraphQL endpoint itself answers POST requests either way."
    )


def graphiql_page(endpoint: str, assets: str | None = None) -> bytes:
    """The HTML page of GraphiQL talking to `endpoint` (the URL path of the GraphQL app)."""
    config = {
        "endpoint": endpoint,
        "assets": _asset_urls(assets),
        "timeout": ASSET_TIMEOUT,
        "help": _help(assets),
    }
    # "<" escaped so that no value can close the script element or open a comment.
    script_json = json.dumps(config).replace("<", "\\u003c")
    return (
        _PAGE.replace("@ORIGIN@", html.escape(_source(assets)))
        .replace("@CONFIG@", script_json)
        .encode()
    )
