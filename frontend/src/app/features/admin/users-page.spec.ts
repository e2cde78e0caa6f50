import { provideHttpClient } from '@angular/common/http';
import { HttpTestingController, provideHttpClientTesting } from '@angular/common/http/testing';
import { TestBed } from '@angular/core/testing';
import { NgForm } from '@angular/forms';
import { provideStore } from '@ngrx/store';
import { UserOut } from '../../api/models/user-out';
import { authFeature } from '../../core/auth.store';
import { UsersPage } from './users-page';

const user = (id: string, role: UserOut['role'], is_active = true): UserOut => ({ id, username: `u-${id}`, email: null, role, is_active, created_at: '2026-12-05T08:00:00Z', last_login_at: null });

describe('user management (admins)', () => {
  let ctl: HttpTestingController;

  beforeEach(() => {
    TestBed.configureTestingModule({ providers: [provideHttpClient(), provideHttpClientTesting(), provideStore({ [authFeature.name]: authFeature.reducer })] });
    ctl = TestBed.inject(HttpTestingController);
  });

  function open(): UsersPage {
    const fixture = TestBed.createComponent(UsersPage);
    fixture.detectChanges();
    ctl.expectOne((r) => r.url === '/api/v1/users').flush({ items: [user('a', 'admin'), user('b', 'user')], total: 2, page: 1, per_page: 50 });
    return fixture.componentInstance;
  }

  it('creates a user with the chosen role and reloads the list', () => {
    const page = open();
    page.draft = { username: ' new-viewer ', email: '', password: 'long enough password', role: 'viewer' };
    page.create({ resetForm: () => undefined } as unknown as NgForm);
    const req = ctl.expectOne('/api/v1/users');
    expect(req.request.method).toBe('POST');
    expect(req.request.body).toEqual({ username: 'new-viewer', password: 'long enough password', role: 'viewer', email: null });
    req.flush(user('c', 'viewer'));
    ctl.expectOne((r) => r.url === '/api/v1/users' && r.method === 'GET').flush({ items: [], total: 0, page: 1, per_page: 50 });
    expect(page.draft.username).toBe('');
  });

  it('changes a role in place, and reloads what the server holds when it refuses', () => {
    const page = open();
    page.update(page.items()[1], { role: 'viewer' });
    const req = ctl.expectOne('/api/v1/users/b');
    expect([req.request.method, req.request.body]).toEqual(['PATCH', { role: 'viewer' }]);
    req.flush(user('b', 'viewer'));
    expect(page.items()[1].role).toBe('viewer');
    page.update(page.items()[0], { is_active: false });
    ctl.expectOne('/api/v1/users/a').flush({ error: { code: 'CONFLICT', message: 'the last active admin cannot be removed, demoted or deactivated' } }, { status: 409, statusText: 'Conflict' });
    ctl.expectOne((r) => r.url === '/api/v1/users' && r.method === 'GET').flush({ items: [user('a', 'admin'), user('b', 'viewer')], total: 2, page: 1, per_page: 50 });
    expect(page.items()[0].is_active).toBe(true);
  });
});
