import {connect} from 'node:tls'

import type {VaultSettings} from './settings.js'

/**
 * Find out why an HTTPS connection was reset. With TLS 1.3 a server that rejects the client certificate
 * sends its alert after the handshake, and when the client has already written its request the alert is
 * often lost to a TCP reset ("ECONNRESET"). A fresh handshake that writes nothing receives the alert
 * intact, so the error names the real problem (certificate required, unknown CA). A server that drops
 * the connection right after the handshake without an alert (as Node's TLS server does for a client
 * certificate it cannot verify) is reported as such. Resolves with the error, or undefined when the
 * connection stays up.
 */
export function probeTls(s: VaultSettings, waitMs = 300): Promise<Error | undefined> {
  const url = new URL(s.address)
  return new Promise((resolve) => {
    let timer: NodeJS.Timeout | undefined
    const socket = connect({
      host: url.hostname,
      port: Number(url.port || 443),
      servername: s.tls.serverName ?? (/^[\d.]+$|:/.test(url.hostname) ? undefined : url.hostname),
      ca: s.tls.ca,
      cert: s.tls.cert,
      key: s.tls.key,
      rejectUnauthorized: !s.tls.skipVerify,
      timeout: Math.min(s.timeoutMs, 5000),
    })
    const done = (error: Error | undefined): void => {
      if (timer) clearTimeout(timer)
      socket.destroy()
      resolve(error)
    }
    socket.once('error', (error) => done(error))
    socket.once('timeout', () => done(undefined))
    let secure = false
    socket.once('secureConnect', () => {
      secure = true
      timer = setTimeout(() => done(undefined), waitMs)
    })
    socket.once('close', () => {
      const error = Object.assign(new Error('the server closed the connection right after the TLS handshake'), {
        code: 'ERR_TLS_CLOSED_AFTER_HANDSHAKE',
      })
      done(secure ? error : undefined)
    })
    socket.resume()
  })
}
