/**
 * EJS pages inside one layout. Views use escaped output (`<%= %>`) only; the layout inserts the rendered
 * page with `<%- body %>`. Rendering returns a string so Express handlers and oidc-provider's Koa hooks
 * (logout, error pages) share the same pages.
 */
import { fileURLToPath } from 'node:url';
import ejs from 'ejs';

/** Folder of the `.ejs` files. */
export const VIEWS_DIR = fileURLToPath(new URL('./views/', import.meta.url));

/** What every page may show besides its own model. */
export interface PageChrome {
  /** The page title and its `<h1>`. */
  title: string;
  /** A message above the form: an error (default) or information. */
  message?: string;
  messageKind?: 'error' | 'info';
  /** Messages per form field. */
  fieldErrors?: Record<string, string[]>;
}

/** Renders page `name` (a file in {@link VIEWS_DIR}, without `.ejs`) in the layout. */
export type RenderPage = (name: string, model: PageChrome & Record<string, unknown>) => Promise<string>;

/**
 * Creates the renderer.
 * @param site - values every page gets: the product name and the base path of the IdP's URLs.
 */
export function createViews(site: { displayName: string; basePath: string }): RenderPage {
  const options: ejs.Options = { cache: true };
  return async (name, model) => {
    const locals = { message: undefined, messageKind: 'error', fieldErrors: {}, ...site, ...model };
    const body = await ejs.renderFile(`${VIEWS_DIR}${name}.ejs`, locals, options);
    return ejs.renderFile(`${VIEWS_DIR}layout.ejs`, { ...locals, body }, options);
  };
}
