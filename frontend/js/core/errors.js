/**
 * The core's exceptions, one module, mirroring sotto/errors.py.
 *
 *   SottoError                   anything the core raises on purpose
 *   +-- ProtocolError            a peer or the server broke the protocol (remote fault)
 *   |   +-- EncodingError        a b64 field, a JSON body or a length is malformed
 *   |   +-- InvalidShare         a SPAKE2 share (or the shared point K) is refused
 *   |   +-- AuthenticationError  a tag, confirmation or signature does not verify
 *   |   +-- RatchetError         a message index too far ahead, too old or already used
 *   +-- UsageError               this program misused the API (local fault)
 *   +-- WrongPasswordError       a peer's confirmation failed: the passwords differ
 *
 * Messages never contain a message body, password, room name or key.
 * @module core/errors
 */

/** Something went wrong in Sotto. */
export class SottoError extends Error {
  /** @param {string} message */
  constructor(message) {
    super(message);
    this.name = new.target.name;
  }
}

/** A peer or the server sent something the protocol forbids. */
export class ProtocolError extends SottoError {}

/** A field is not well formed (bad base64url, bad JSON, bad length). */
export class EncodingError extends ProtocolError {}

/** A SPAKE2 share is not a valid P-256 point, or the shared point is the identity. */
export class InvalidShare extends ProtocolError {}

/** A tag, a key confirmation or a signature did not verify. */
export class AuthenticationError extends ProtocolError {}

/** A message key cannot be produced: too far ahead, already used, or deleted. */
export class RatchetError extends ProtocolError {}

/** The program used the API the wrong way. */
export class UsageError extends SottoError {}

/** The other side proved a different password: check the room password with them. */
export class WrongPasswordError extends SottoError {
  constructor() {
    super("The other side proved a different password: check the room password with them.");
  }
}
