"""The blog's generated root fields, beside the seed's hand-written ones (blog_api).

Importing this module (after blog_api, whose `User` it exposes) declares `allUsers` (a
filtered, ordered list) and `usersConnection` (a Relay connection) without resolvers; the
seed's own `users(limit)` gets `where`, `orderBy` and `offset` generated as well. Try:

    { allUsers(where: {email: {endswith: "@example.com"}}, orderBy: [{createdAt: DESC}],
               limit: 3) { id email createdAt } }
    { usersConnection(first: 2) { edges { cursor node { id } } pageInfo { endCursor } } }
"""

from __future__ import annotations

import fraiseql
from fraiseql.examples.blog_api import User

fraiseql.expose(User, many="allUsers", connection="usersConnection")
