/**
 * The routes an Express app registers, nested routers included, read from the app itself (Express 5's
 * `router.stack`, `rawPath`), so a fuzz or safety test covers a route the day it is added.
 */
import type express from 'express';

/** One route as Express knows it: method and full path with its `:params` and `*wildcards`. */
export interface Route {
  method: string;
  path: string;
}

/** Every route registered on `app` (or a router), in registration order. */
export function routesOf(app: express.Express | express.Router): Route[] {
  type Layer = { rawPath?: string; route?: { path: string; methods: Record<string, boolean> }; handle?: { stack?: Layer[] } };
  const found: Route[] = [];
  const walk = (stack: Layer[], prefix: string) => {
    for (const layer of stack) {
      if (layer.route) {
        for (const method of Object.keys(layer.route.methods)) found.push({ method: method.toUpperCase(), path: prefix + layer.route.path });
      } else if (layer.handle?.stack) {
        walk(layer.handle.stack, prefix + (layer.rawPath && layer.rawPath !== '/' ? layer.rawPath : ''));
      }
    }
  };
  const root = (app as unknown as { router?: { stack: Layer[] }; stack?: Layer[] });
  walk(root.router?.stack ?? root.stack ?? [], '');
  return found;
}
