import { provideHttpClient } from '@angular/common/http';
import { HttpTestingController, provideHttpClientTesting } from '@angular/common/http/testing';
import { TestBed } from '@angular/core/testing';
import { NgForm } from '@angular/forms';
import { provideStore } from '@ngrx/store';
import { authFeature } from '../../core/auth.store';
import { SettingsPage } from './settings-page';

describe('settings page', () => {
  let ctl: HttpTestingController;

  beforeEach(() => {
    localStorage.removeItem('promethium.display');
    TestBed.configureTestingModule({
      providers: [provideHttpClient(), provideHttpClientTesting(), provideStore({ [authFeature.name]: authFeature.reducer })],
    });
    ctl = TestBed.inject(HttpTestingController);
  });

  it('checks the repeated password before asking the server, then reports the sessions ended', () => {
    const page = TestBed.createComponent(SettingsPage).componentInstance;
    const form = { resetForm: () => undefined } as unknown as NgForm;
    page.current = 'old password here';
    page.next = 'new password long enough';
    page.again = 'something else';
    page.changePassword(form);
    expect(page.pwError()).toBe('The two new passwords differ');
    ctl.expectNone('/api/v1/auth/password');
    page.again = page.next;
    page.changePassword(form);
    const req = ctl.expectOne('/api/v1/auth/password');
    expect(req.request.body).toEqual({ current_password: 'old password here', new_password: 'new password long enough' });
    req.flush({ sessions_ended: 2 });
    expect(page.pwDone()).toBe('Password changed; 2 other sessions ended.');
  });

  it('shows the server refusal in plain words', () => {
    const page = TestBed.createComponent(SettingsPage).componentInstance;
    page.current = 'wrong';
    page.next = page.again = 'new password long enough';
    page.changePassword({ resetForm: () => undefined } as unknown as NgForm);
    ctl.expectOne('/api/v1/auth/password').flush({ error: { code: 'VALIDATION_ERROR', message: 'the current password is wrong', details: { field: 'current_password' } } }, { status: 422, statusText: 'Unprocessable' });
    expect(page.pwError()).toBe('The request was not valid: the current password is wrong');
  });

  it('saves the display defaults the viewers start from', () => {
    const page = TestBed.createComponent(SettingsPage).componentInstance;
    page.prefs = { colormap: 'seismic', clipPct: 97, gain: 2, mode: 'density' };
    page.savePrefs();
    expect(JSON.parse(localStorage.getItem('promethium.display') ?? '{}')).toEqual({ colormap: 'seismic', clipPct: 97, gain: 2, mode: 'density' });
  });
});
