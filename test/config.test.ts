import { describe, expect, it } from 'vitest';
import { ConfigError, DEVELOPMENT_ENCRYPTION_KEY, loadConfig } from '../lib/index.js';

describe('configuration', () => {
  it('starts with documented defaults when nothing is set', () => {
    const config = loadConfig({});
    expect(config.issuer).toBe('http://localhost:3000');
    expect(config.port).toBe(3000);
    expect(config.databaseUrl).toBeUndefined();
    expect(config.lockout).toEqual({ maxFailures: 5, windowSeconds: 1800, maxConsecutiveFailures: 20 });
    expect(config.otp.ttlSeconds).toBe(600);
    expect(config.encryptionKey).toHaveLength(32);
  });

  it('names every invalid variable in one error', () => {
    expect(() => loadConfig({ PORT: 'eighty', ISSUER: 'not a url', LOCKOUT_MAX_FAILURES: '0' })).toThrowError(
      expect.objectContaining({ message: expect.stringMatching(/PORT[\s\S]*ISSUER|ISSUER[\s\S]*PORT/) }),
    );
    try {
      loadConfig({ PORT: 'eighty', ISSUER: 'not a url', LOCKOUT_MAX_FAILURES: '0' });
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as Error).message).toContain('LOCKOUT_MAX_FAILURES');
    }
  });

  it('refuses to start in production on development keys', () => {
    expect(() => loadConfig({ NODE_ENV: 'production', ISSUER: 'https://id.example.com' })).toThrowError(/COOKIE_KEYS is the development key/);
    expect(() => loadConfig({ NODE_ENV: 'production', ISSUER: 'https://id.example.com', COOKIE_KEYS: 'k'.repeat(40), ENCRYPTION_KEY: Buffer.alloc(32, 7).toString('base64') })).toThrowError(
      /ADMIN_CONSOLE_URL must be set, https/,
    );
    const production = loadConfig({
      NODE_ENV: 'production',
      ADMIN_CONSOLE_URL: 'https://admin.example.com/',
      ISSUER: 'https://id.example.com',
      COOKIE_KEYS: 'k'.repeat(40),
      ENCRYPTION_KEY: Buffer.alloc(32, 7).toString('base64'),
    });
    expect(production.demo.data).toBe(false);
    expect(production.demo.portals).toBe(false);
    expect(production.adminConsole.url).toBe('https://admin.example.com');
  });

  it('refuses the development ENCRYPTION_KEY in production however its base64 is written (padding, whitespace, line breaks)', () => {
    const production = { NODE_ENV: 'production', ISSUER: 'https://id.example.com', ADMIN_CONSOLE_URL: 'https://admin.example.com', COOKIE_KEYS: 'k'.repeat(40) };
    const key = DEVELOPMENT_ENCRYPTION_KEY;
    const spellings = [key, key.replace(/=+$/, ''), `${key}=`, ` ${key.slice(0, 20)}\n${key.slice(20)} `, `\t${key.match(/.{1,8}/g)!.join('\r\n')}`];
    expect(new Set(spellings).size).toBe(5);
    for (const spelling of spellings) {
      expect(Buffer.from(spelling, 'base64').equals(Buffer.from(key, 'base64'))).toBe(true);
      expect(() => loadConfig({ ...production, ENCRYPTION_KEY: spelling })).toThrowError(/ENCRYPTION_KEY is the development key/);
    }
    expect(loadConfig({ ...production, ENCRYPTION_KEY: Buffer.alloc(32, 7).toString('base64') }).env).toBe('production');
  });

  it('rejects an encryption key that is not 32 bytes', () => {
    expect(() => loadConfig({ ENCRYPTION_KEY: Buffer.alloc(16).toString('base64') })).toThrowError(/ENCRYPTION_KEY/);
  });
});
