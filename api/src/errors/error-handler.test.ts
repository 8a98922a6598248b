import {
  CertificateAuthorityUnavailableError,
  CommitFailedError,
  CommitStatusUnknownError,
  EndorsementError,
  EvaluationError,
  NotMemberError,
  PeersBusyError,
  RefusedError,
  SubmissionError,
} from '@gigledger/gateway';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import SQLite from 'better-sqlite3';
import pg from 'pg';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { pino } from 'pino';
import { errorBody, errorHandler, maxErrorMessageLength } from './error-handler.js';
import { ApiError } from './api-error.js';

/** The error SQLite raises for `statement` while another connection holds the write lock. */
function sqliteErrorUnderContention(statement: string): unknown {
  const dir = mkdtempSync(path.join(tmpdir(), 'gl-busy-'));
  const holder = new SQLite(path.join(dir, 'db.sqlite'));
  const waiter = new SQLite(path.join(dir, 'db.sqlite'), { timeout: 10 });
  try {
    holder.pragma('journal_mode = WAL');
    holder.exec('create table t (id integer primary key, name text not null unique)');
    holder.exec("insert into t (name) values ('taken')");
    holder.exec('begin immediate');
    try {
      waiter.exec(statement);
    } catch (error) {
      return error;
    } finally {
      holder.exec('rollback');
    }
    return undefined;
  } finally {
    holder.close();
    waiter.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('errorBody', () => {
  it('tells the stages of a failed transaction apart, each with its transaction id', () => {
    const cases: [Error, number, string][] = [
      [new EndorsementError('peers down', { transactionId: 'tx1' }), 503, 'ENDORSEMENT_FAILED'],
      [new SubmissionError('orderers down', { transactionId: 'tx2' }), 503, 'ORDERING_FAILED'],
      [new CommitStatusUnknownError('timed out', { transactionId: 'tx3' }), 504, 'COMMIT_STATUS_UNKNOWN'],
      [new CommitFailedError('MVCC_READ_CONFLICT', { transactionId: 'tx4' }), 409, 'COMMIT_FAILED'],
    ];
    for (const [error, status, code] of cases) {
      expect(errorBody(error, 'r1')).toMatchObject({
        status,
        code,
        requestId: 'r1',
        transactionId: (error as { transactionId?: string }).transactionId,
      });
    }
  });

  it('says a proposal shed unsent at capacity changed nothing, whether a read or a command', () => {
    const shed = errorBody(new PeersBusyError('waited', { transactionId: 'tx9' }), 'r1');
    expect([shed.status, shed.code]).toEqual([503, 'PEERS_BUSY']);
    expect(shed.message).toContain('was not sent, so nothing was read or changed');
  });

  it('says a failed read is a query the peers could not answer, not a transaction they could not endorse', () => {
    expect(errorBody(new EvaluationError('peer down'), 'r1')).toEqual({
      status: 503,
      code: 'ENDORSEMENT_FAILED',
      message: 'the peers could not answer the query; try again',
      requestId: 'r1',
    });
    expect(errorBody(new EndorsementError('peers down'), 'r1')).toMatchObject({
      message: 'the peers could not endorse the transaction',
    });
    // The organisations whose peers the gateway peer named as failing, when it named any.
    expect(
      errorBody(new EndorsementError('peers down', { organisations: ['TalentOrgMSP', 'AuditOrgMSP'] }), 'r1').message,
    ).toBe('the peers could not endorse the transaction (failed at the peers of TalentOrgMSP, AuditOrgMSP)');
    expect(errorBody(new EvaluationError('peer down', { organisations: ['ClientOrgMSP'] }), 'r1').message).toBe(
      'the peers could not answer the query (failed at the peers of ClientOrgMSP); try again',
    );
  });

  it("answers the peers' refusal of a removed organisation's identity as 403 ORGANISATION_NOT_MEMBER, not a retryable 503", () => {
    expect(
      errorBody(
        new NotMemberError('access denied: channel [gigledger] creator org unknown', { transactionId: 'tx5' }),
        'r1',
      ),
    ).toMatchObject({ status: 403, code: 'ORGANISATION_NOT_MEMBER', requestId: 'r1', transactionId: 'tx5' });
  });

  it('answers 503 when an organisation CA does not answer, so a client retries instead of reporting a bug', () => {
    expect(errorBody(new CertificateAuthorityUnavailableError('ca-clientorg'), 'r1')).toEqual({
      status: 503,
      code: 'CA_UNAVAILABLE',
      message: "the organisation's certificate authority did not answer; try again",
      requestId: 'r1',
    });
  });

  it('cuts a message that quotes a long input, so an answer never grows with the request', () => {
    const sent = 'ü'.repeat(200_000);
    for (const error of [
      new ApiError(403, 'FORBIDDEN', `not ${sent}'s`, 'org'),
      new RefusedError({ code: 'NOT_FOUND', message: `no agreement ${sent}`, field: 'agreementId' }),
    ]) {
      const body = errorBody(error, 'r-long');
      expect(body.message.length).toBeLessThan(maxErrorMessageLength + 60);
      expect(body.message).toMatch(/… \(\d+ more characters left out\)$/);
      expect([body.field, body.requestId]).toEqual([error.field, 'r-long']);
    }
    // A cut never leaves half of a surrogate pair.
    const emoji = errorBody(new ApiError(422, 'VALIDATION_FAILED', `x${'😀'.repeat(1000)}`, 'name'), 'r-pair').message;
    expect(emoji).toMatch(/^x(😀)+… \(\d+ more characters left out\)$/u);
    expect(errorBody(new ApiError(404, 'NOT_FOUND', 'short', 'id'), 'r').message).toBe('short');
  });

  it('keeps a chaincode refusal’s code and sentence, with the status of its kind', () => {
    expect(
      errorBody(
        new RefusedError({ code: 'INVALID_STATE', message: 'milestone m2 of A-17 is funded, not submitted' }),
        'r2',
      ),
    ).toEqual({
      status: 409,
      code: 'INVALID_STATE',
      message: 'milestone m2 of A-17 is funded, not submitted',
      requestId: 'r2',
    });
    expect(errorBody(new RefusedError({ code: 'NOT_FOUND', message: 'no agreement A-1' }), 'r3').status).toBe(404);
    expect(
      errorBody(new RefusedError({ code: 'VALIDATION_FAILED', message: 'amount: bad', field: 'amount' }), 'r4'),
    ).toMatchObject({
      status: 422,
      field: 'amount',
    });
  });

  it('answers a database busy with other writers as a retryable 503 DATABASE_BUSY, for SQLite and PostgreSQL', () => {
    const busy = {
      status: 503,
      code: 'DATABASE_BUSY',
      message: 'the database was busy with other writers and nothing was changed; try again',
      requestId: 'r6',
    };
    const locked = sqliteErrorUnderContention("insert into t (name) values ('other')");
    expect(locked).toMatchObject({ name: 'SqliteError', code: 'SQLITE_BUSY' });
    expect(errorBody(locked, 'r6')).toEqual(busy);
    for (const sqlState of ['40001', '40P01', '55P03']) {
      const error = Object.assign(new pg.DatabaseError('could not serialize access', 0, 'error'), {
        code: sqlState,
        severity: 'ERROR',
      });
      expect(errorBody(error, 'r6')).toEqual(busy);
    }
    // Other database errors are not the caller's to retry.
    const memory = new SQLite(':memory:');
    memory.exec("create table t (name text unique); insert into t values ('taken')");
    let constraint: unknown;
    try {
      memory.exec("insert into t values ('taken')");
    } catch (error) {
      constraint = error;
    }
    memory.close();
    expect(constraint).toMatchObject({ name: 'SqliteError', code: 'SQLITE_CONSTRAINT_UNIQUE' });
    expect(errorBody(constraint, 'r6')).toMatchObject({ status: 500, code: 'INTERNAL' });
    const unique = Object.assign(new pg.DatabaseError('duplicate key', 0, 'error'), {
      code: '23505',
      severity: 'ERROR',
    });
    expect(errorBody(unique, 'r6')).toMatchObject({ status: 500, code: 'INTERNAL' });
    expect(errorBody(Object.assign(new Error('x'), { code: '40001' }), 'r6')).toMatchObject({ status: 500 });
  });

  it('answers anything unexpected with a 500 that says nothing of the cause', () => {
    const body = errorBody(new Error('connection string postgres://secret@db'), 'r5');
    expect(body).toEqual({
      status: 500,
      code: 'INTERNAL',
      message: 'an unexpected error occurred; quote the request id',
      requestId: 'r5',
    });
  });

  it('sends every 503 (a busy database, peers that did not answer) and 504 with Retry-After, and a 500 without it', async () => {
    const app = express();
    const locked = sqliteErrorUnderContention("insert into t (name) values ('other')");
    app.use((_request, response, next) => {
      response.locals.requestId = 'r7';
      next();
    });
    app.get('/busy', () => {
      throw locked;
    });
    app.get('/broken', () => {
      throw new Error('broken');
    });
    app.get('/peers', () => {
      throw new ApiError(503, 'ENDORSEMENT_FAILED', 'the peers could not answer the query; try again');
    });
    app.get('/unknown', () => {
      throw new CommitStatusUnknownError('commit not seen within 60000 ms', { transactionId: 'tx-1' });
    });
    app.get('/shed', () => {
      throw new PeersBusyError('waited 10000 ms for a free slot to call /gateway.Gateway/Evaluate');
    });
    const lines: { level: number; msg: string; err?: unknown }[] = [];
    const log = pino(
      { level: 'info' },
      { write: (line: string) => lines.push(JSON.parse(line) as { level: number; msg: string; err?: unknown }) },
    );
    app.use(errorHandler(log));
    const server = app.listen(0, '127.0.0.1');
    await new Promise<void>((resolve) => server.once('listening', resolve));
    try {
      const base = `http://127.0.0.1:${String((server.address() as AddressInfo).port)}`;
      const busy = await fetch(`${base}/busy`);
      expect([busy.status, busy.headers.get('retry-after'), ((await busy.json()) as { code: string }).code]).toEqual([
        503,
        '1',
        'DATABASE_BUSY',
      ]);
      const peers = await fetch(`${base}/peers`);
      expect([peers.status, peers.headers.get('retry-after')]).toEqual([503, '1']);
      const unknown = await fetch(`${base}/unknown`);
      expect([
        unknown.status,
        unknown.headers.get('retry-after'),
        ((await unknown.json()) as { code: string }).code,
      ]).toEqual([504, '5', 'COMMIT_STATUS_UNKNOWN']);
      const broken = await fetch(`${base}/broken`);
      expect([broken.status, broken.headers.get('retry-after')]).toEqual([500, null]);
      // A failure of a known kind (a peer restart brings hundreds) is a warning naming its
      // code and cause; only an unexpected one is an error with its stack.
      expect(lines.map((line) => [line.level, line.msg, line.err === undefined])).toEqual([
        [40, 'request failed: DATABASE_BUSY', true],
        [40, 'request failed: ENDORSEMENT_FAILED', true],
        [40, 'request failed: COMMIT_STATUS_UNKNOWN', true],
        [50, 'request failed', false],
      ]);
      expect(lines[2]).toMatchObject({ code: 'COMMIT_STATUS_UNKNOWN', cause: 'commit not seen within 60000 ms' });
      // A request shed unsent has already waited its deadline: it is told to wait longer
      // than one second, and the shedding is one warning line, not an error with a stack.
      lines.length = 0;
      const shed = await fetch(`${base}/shed`);
      expect([shed.status, shed.headers.get('retry-after'), ((await shed.json()) as { code: string }).code]).toEqual([
        503,
        '5',
        'PEERS_BUSY',
      ]);
      expect(lines.map((line) => [line.level, line.msg, line.err === undefined])).toEqual([
        [40, 'peers busy: request shed', true],
      ]);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
