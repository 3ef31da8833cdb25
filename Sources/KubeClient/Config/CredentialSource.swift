import Foundation

/// How requests to the API server authenticate, beyond what TLS already does.
///
/// A client certificate lives in ``TLSSettings/clientCertificate``; ``clientCertificate`` here only
/// records that the certificate is the whole story. A bearer token may also be combined with a client
/// certificate (kubectl allows that): then this is ``bearerToken(_:)`` and TLS still carries the certificate.
public enum CredentialSource: Sendable, CustomStringConvertible {
    /// Anonymous: no `Authorization` header.
    case none
    /// Mutual TLS only; see ``TLSSettings/clientCertificate``.
    case clientCertificate
    /// A fixed bearer token from the kubeconfig.
    case bearerToken(Secret<String>)
    /// A bearer token read from a file on every use, so rotated service-account tokens are picked up.
    case tokenFile(TokenFile)
    /// A credential plugin; run it through an ``ExecCredentialProvider``, which caches its answer.
    case exec(ExecPluginConfiguration)

    public var description: String {
        switch self {
        case .none: return "none"
        case .clientCertificate: return "client certificate"
        case .bearerToken: return "bearer token <redacted>"
        case .tokenFile(let file): return "token file \(file.path)"
        case .exec(let plugin): return "exec plugin \(plugin.command)"
        }
    }
}

/// A bearer token kept in a file and read fresh each time it is needed.
public struct TokenFile: Sendable {
    public let path: String
    private let readFile: @Sendable (String) throws -> Data?

    public init(
        path: String,
        readFile: @escaping @Sendable (String) throws -> Data? = KubeconfigEnvironment.readFileFromDisk
    ) {
        self.path = path
        self.readFile = readFile
    }

    /// Reads the file now and returns its trimmed contents.
    ///
    /// kubectl re-reads token files (it caches for a minute); reading on every call is the simplest
    /// way to see a rotated service-account token and the files are tiny.
    /// - Throws: ``KubeconfigError/Code/tokenFileUnreadable`` when the file is missing, unreadable or empty.
    public func currentToken() throws -> Secret<String> {
        let data: Data?
        do {
            data = try readFile(path)
        } catch {
            throw KubeconfigError(
                code: .tokenFileUnreadable, subject: path, detail: "the token file could not be read",
                hint: "check the file's permissions", underlying: error)
        }
        guard let data else {
            throw KubeconfigError(
                code: .tokenFileUnreadable, subject: path, detail: "the token file does not exist",
                hint: "fix `tokenFile` in the kubeconfig, or check that the service account token is mounted")
        }
        let token = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        guard !token.isEmpty else {
            throw KubeconfigError(
                code: .tokenFileUnreadable, subject: path, detail: "the token file is empty",
                hint: "write the bearer token into it, or remove `tokenFile` from the kubeconfig")
        }
        return Secret(token)
    }
}
