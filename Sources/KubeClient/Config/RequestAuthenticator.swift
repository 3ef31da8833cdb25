import Foundation

/// Turns a ``CredentialSource`` into what each request needs: the `Authorization` header value.
///
/// One instance per client: it owns the ``ExecCredentialProvider`` (and so the plugin's cache) for
/// exec credentials, and re-reads token files on every call. The HTTP layer calls
/// ``authorizationHeader()`` before each request and ``requestWasUnauthorized()`` after a 401.
public struct RequestAuthenticator: Sendable {
    private enum Method: Sendable {
        case none
        case token(Secret<String>)
        case file(TokenFile)
        case exec(ExecCredentialProvider)
    }

    private let method: Method

    /// - Parameters:
    ///   - credentials: from ``ResolvedCluster/credentials``.
    ///   - environment: inherited by an exec plugin.
    ///   - execTimeout: how long an exec plugin may run.
    ///   - now: wall clock for exec credential expiry.
    public init(
        credentials: CredentialSource,
        environment: [String: String] = ProcessInfo.processInfo.environment,
        execTimeout: Duration = .seconds(60),
        now: @escaping @Sendable () -> Date = { Date() }
    ) {
        switch credentials {
        case .none, .clientCertificate:
            method = .none
        case .bearerToken(let token):
            method = .token(token)
        case .tokenFile(let file):
            method = .file(file)
        case .exec(let plugin):
            method = .exec(ExecCredentialProvider(plugin: plugin, environment: environment, timeout: execTimeout, now: now))
        }
    }

    /// `Bearer <token>` for the next request, or `nil` when requests carry no header (anonymous,
    /// client certificate, or an exec plugin that answered with a certificate).
    /// - Throws: ``KubeconfigError`` when a token file cannot be read or the exec plugin fails.
    public func authorizationHeader() async throws -> Secret<String>? {
        let token: Secret<String>?
        switch method {
        case .none:
            token = nil
        case .token(let value):
            token = value
        case .file(let file):
            token = try file.currentToken()
        case .exec(let provider):
            token = try await provider.credential().token
        }
        return token.map { Secret("Bearer " + $0.revealed) }
    }

    /// The client certificate an exec plugin handed out, for plugins that authenticate with mTLS.
    /// `nil` for every other method (their certificate, if any, is already in ``TLSSettings``).
    public func execClientCertificate() async throws -> ClientCertificate? {
        guard case .exec(let provider) = method else { return nil }
        return try await provider.credential().clientCertificate
    }

    /// Tells the authenticator the server rejected the last credential (HTTP 401). Exec credentials
    /// are dropped so the next request runs the plugin again; token files are re-read anyway.
    public func requestWasUnauthorized() async {
        if case .exec(let provider) = method {
            await provider.invalidate()
        }
    }
}
