// The administration API as the dashboard uses it: who is signed in, projects, users, a session's
// access log and its deletion. Every change carries the CSRF token (account.ts `send`).

import type { OnlineList, OnlineVisitor } from '@streamdom/recorder/protocol';
import { send, toLogin } from '../account';

export interface Me { username: string; role: 'admin' | 'member' }
export interface Project {
  name: string;
  key: string | null;
  allowed_origins: string[];
  retention_days: number;
  created_at: string;
  record_mode: RecordMode;
  sample_percent: number;
  sample_urls: string[];
  members?: string[];
}
export type RecordMode = 'all' | 'sample' | 'standby';
export interface User { username: string; role: string }
export interface Access { username: string; kind: string; at: string }

/** What a failed request says: the hub's `message`, else its status. */
export class ApiError extends Error {
  constructor(readonly status: number, message: string) { super(message); }
}

async function answer<T>(res: Response): Promise<T> {
  if (res.status === 401) { toLogin(); throw new ApiError(401, 'signed out'); }
  if (!res.ok) {
    const body = (await res.json().catch(() => null)) as { message?: string } | null;
    throw new ApiError(res.status, body?.message ?? `HTTP ${res.status}`);
  }
  return (res.status === 204 ? undefined : await res.json()) as T;
}

const get = async <T>(path: string): Promise<T> => answer<T>(await fetch(path));
const change = async <T>(method: string, path: string, body?: unknown): Promise<T> => answer<T>(await send(method, path, body));
const seg = encodeURIComponent;

export const me = () => get<Me>('/api/me');
export const projects = async () => (await get<{ projects: Project[] }>('/api/projects')).projects;
export const users = async () => (await get<{ users: User[] }>('/api/users')).users;
export const createProject = (name: string, retentionDays: number, origins: string[]) =>
  change<Project>('POST', '/api/projects', { name, retention_days: retentionDays, allowed_origins: origins });
export const removeProject = (name: string) => change<void>('DELETE', `/api/projects/${seg(name)}`);
export const allowOrigin = (name: string, origin: string) => change<Project>('POST', `/api/projects/${seg(name)}/origins`, { origin });
export const disallowOrigin = (name: string, origin: string) =>
  change<Project>('DELETE', `/api/projects/${seg(name)}/origins?origin=${seg(origin)}`);
export const grant = (name: string, username: string) => change<void>('POST', `/api/projects/${seg(name)}/members`, { username });
export const revoke = (name: string, username: string) => change<void>('DELETE', `/api/projects/${seg(name)}/members/${seg(username)}`);
export const setRetention = (name: string, days: number) =>
  change<Project>('PUT', `/api/projects/${seg(name)}/retention`, { retention_days: days });

export const setRecordMode = (name: string, mode: RecordMode, percent: number, urls: string[]) =>
  change<Project>('PUT', `/api/projects/${seg(name)}/record_mode`, { record_mode: mode, sample_percent: percent, sample_urls: urls });

export interface Started { session_id: string; project: string }
export const online = async () => (await get<OnlineList>('/api/online')).visitors;
const visitorPath = (v: OnlineVisitor, what: string) => `/api/online/${seg(v.visitor_id)}/${what}?project=${seg(v.project)}`;
export const watchVisitor = (v: OnlineVisitor) => change<Started>('POST', visitorPath(v, 'watch'));
export const stopVisitor = (v: OnlineVisitor) => change<void>('POST', visitorPath(v, 'stop'));

const sessionPath = (id: string, project: string | null) =>
  `/api/sessions/${seg(id)}${project ? `?project=${seg(project)}` : ''}`;
export const accessLog = async (id: string, project: string | null) => {
  const path = sessionPath(id, project).replace(/(\?|$)/, '/access$1');
  return (await get<{ access: Access[] }>(path)).access;
};
export const deleteSession = (id: string, project: string | null) => change<void>('DELETE', sessionPath(id, project));
