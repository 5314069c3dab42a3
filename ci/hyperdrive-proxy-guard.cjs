// wrangler 4.86's local Hyperdrive proxy (miniflare's hyperdrive-proxy.ts) pipes workerd's socket
// to the database's with no 'error' listener on either, so a database (or PgBouncer) that closes
// a connection while the worker is still writing (EPIPE), resets it (ECONNRESET) or refuses it
// (ECONNREFUSED) throws an uncaught exception that ends `wrangler dev` and every function in it.
// Production Hyperdrive has no such proxy. ci/dev preloads this file into wrangler
// (NODE_OPTIONS=--require): a socket piped into another socket that has no error listener of its
// own gets one that closes its peer, so the worker sees its database connection end (and answers
// 503) instead of wrangler ending.
"use strict";
const net = require("node:net");
const pipe = net.Socket.prototype.pipe;
net.Socket.prototype.pipe = function (destination, options) {
  if (destination instanceof net.Socket) {
    for (const [socket, peer] of [[this, destination], [destination, this]]) {
      if (socket.listenerCount("error") === 0) {
        socket.on("error", (error) => {
          console.error(`[hyperdrive-proxy-guard] ${error.code || error.message}: connection closed`);
          peer.destroy();
        });
      }
    }
  }
  return pipe.call(this, destination, options);
};
