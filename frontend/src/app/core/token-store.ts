import { Injectable } from '@angular/core';
import { TokenOut } from '../api/models/token-out';

const KEY = 'promethium.tokens';

/** The access and refresh tokens, kept in sessionStorage (per tab; gone when the tab closes). */
@Injectable({ providedIn: 'root' })
export class TokenStore {
  private tokens: TokenOut | null = this.read();

  private read(): TokenOut | null {
    try {
      const raw = sessionStorage.getItem(KEY);
      return raw ? (JSON.parse(raw) as TokenOut) : null;
    } catch {
      return null;
    }
  }

  get access(): string | null {
    return this.tokens?.access_token ?? null;
  }

  get refresh(): string | null {
    return this.tokens?.refresh_token ?? null;
  }

  set(tokens: TokenOut): void {
    this.tokens = tokens;
    sessionStorage.setItem(KEY, JSON.stringify(tokens));
  }

  clear(): void {
    this.tokens = null;
    sessionStorage.removeItem(KEY);
  }
}
