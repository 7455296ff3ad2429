/**
 * `iam client create` options for how the client authenticates at the token endpoint: `--public` (`none`, a
 * single-page or native app; `--allow-refresh` for DPoP-bound refresh tokens), `--jwks-file`/`--jwks-uri`
 * (`private_key_jwt`, RFC 7523), `--client-secret-post`; `client_secret_basic` otherwise.
 */
import { readFile } from 'node:fs/promises';
import { DomainError } from '../lib/index.js';
import type { NewClient } from '../storage/index.js';

/** The options as commander parses them. */
export interface AuthenticationOptions {
  public?: boolean;
  allowRefresh?: boolean;
  jwksFile?: string;
  jwksUri?: string;
  clientSecretPost?: boolean;
}

/**
 * The client store's authentication fields for `options`; the store validates the keys and URL.
 * @throws DomainError `validation_failed` when options conflict or the JWKS file cannot be read as JSON.
 */
export async function authenticationOf(options: AuthenticationOptions): Promise<Pick<NewClient, 'tokenEndpointAuthMethod' | 'jwks' | 'jwksUri' | 'allowRefresh'>> {
  const keyed = options.jwksFile !== undefined || options.jwksUri !== undefined;
  if ([options.public, keyed, options.clientSecretPost].filter(Boolean).length > 1) {
    throw new DomainError('validation_failed', 'Choose one of --public, --jwks-file/--jwks-uri and --client-secret-post.');
  }
  if (options.allowRefresh && !options.public) throw new DomainError('validation_failed', '--allow-refresh belongs to --public: confidential clients get refresh tokens anyway.');
  if (options.public) return { tokenEndpointAuthMethod: 'none', allowRefresh: options.allowRefresh ?? false };
  if (options.clientSecretPost) return { tokenEndpointAuthMethod: 'client_secret_post' };
  if (!keyed) return {};
  return { tokenEndpointAuthMethod: 'private_key_jwt', jwks: options.jwksFile === undefined ? undefined : await readJwks(options.jwksFile), jwksUri: options.jwksUri };
}

async function readJwks(path: string) {
  const text = await readFile(path, 'utf8').catch((error: NodeJS.ErrnoException) => {
    throw new DomainError('validation_failed', `Cannot read --jwks-file ${path}: ${error.code ?? error.message}.`);
  });
  try {
    return JSON.parse(text) as { keys: Record<string, unknown>[] };
  } catch {
    throw new DomainError('validation_failed', `--jwks-file ${path} is not JSON: give a JWK Set {"keys": [...]}.`);
  }
}
