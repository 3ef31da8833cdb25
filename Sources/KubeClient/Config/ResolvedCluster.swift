import Foundation

/// Everything needed to talk to one API server, after a kubeconfig (or the in-cluster service
/// account) has been loaded, merged, validated and its files read.
///
/// Produced by ``KubeconfigLoader/load(_:)``; the HTTP layer turns ``tls`` into a NIOSSL
/// configuration with ``TLSSettings/makeTLSConfiguration()`` and asks ``credentials`` for the
/// `Authorization` header on each request.
public struct ResolvedCluster: Sendable {
    /// Where the configuration came from, for logs and for the "about to act on …" line of destructive commands.
    public enum Origin: Sendable, Equatable, CustomStringConvertible {
        /// Loaded from kubeconfig files (in merge order) using this context, cluster and user.
        case kubeconfig(files: [String], context: String, cluster: String, user: String?)
        /// Built from the pod's service account folder and `KUBERNETES_SERVICE_HOST`/`PORT`.
        case inCluster(serviceAccountDirectory: String)

        public var description: String {
            switch self {
            case .kubeconfig(let files, let context, let cluster, _):
                return "context \"\(context)\" (cluster \"\(cluster)\") from \(files.joined(separator: ":"))"
            case .inCluster(let directory):
                return "in-cluster service account (\(directory))"
            }
        }
    }

    /// The API server base URL; scheme is `https` or `http`, host is present.
    public var server: URL
    /// The namespace to use when a command does not name one: `--namespace`, else the context's, else `default`.
    public var namespace: String
    public var tls: TLSSettings
    public var credentials: CredentialSource
    /// kubectl's `disable-compression`: do not ask the server for gzip responses.
    public var disableCompression: Bool
    public var origin: Origin

    public init(
        server: URL,
        namespace: String,
        tls: TLSSettings,
        credentials: CredentialSource,
        disableCompression: Bool = false,
        origin: Origin
    ) {
        self.server = server
        self.namespace = namespace
        self.tls = tls
        self.credentials = credentials
        self.disableCompression = disableCompression
        self.origin = origin
    }
}

// MARK: - Server URL

extension ResolvedCluster {
    /// Parses and checks a kubeconfig `server` value.
    /// - Throws: ``KubeconfigError/Code/invalidServerURL`` when it is empty, has no host, or is not http(s).
    public static func validateServerURL(_ text: String?, subject: String) throws -> URL {
        let trimmed = (text ?? "").trimmingCharacters(in: .whitespaces)
        guard !trimmed.isEmpty else {
            throw KubeconfigError(
                code: .invalidServerURL, subject: subject, detail: "the cluster has no server URL",
                hint: "set `server: https://HOST:PORT` for this cluster")
        }
        guard let components = URLComponents(string: trimmed),
            let scheme = components.scheme?.lowercased(),
            let host = components.host, !host.isEmpty,
            let url = components.url
        else {
            throw KubeconfigError(
                code: .invalidServerURL, subject: subject,
                detail: "server \"\(trimmed)\" is not a URL with a scheme and a host",
                hint: "write it as https://HOST:PORT")
        }
        guard scheme == "https" || scheme == "http" else {
            throw KubeconfigError(
                code: .invalidServerURL, subject: subject,
                detail: "server \"\(trimmed)\" uses scheme \"\(scheme)\"; only https and http are supported",
                hint: "write it as https://HOST:PORT")
        }
        return url
    }
}

// MARK: - Security warnings

extension ResolvedCluster {
    /// What this configuration gives away, one sentence each: the run goes on, but the operator
    /// (and the exercise report) should know. Empty for https with certificate checks, and for
    /// plain http to this machine (`kubectl proxy`).
    public var securityWarnings: [String] {
        var warnings: [String] = []
        let host = (server.host ?? "").trimmingCharacters(in: CharacterSet(charactersIn: "[]")).lowercased()
        let loopback = host == "localhost" || host == "::1" || host.hasPrefix("127.")
        if server.scheme?.lowercased() == "http", !loopback {
            warnings.append(
                "the kubeconfig's API server http://\(host) is plain http: the credentials and every object read or written cross the network unencrypted (use https://)"
            )
        }
        if tls.insecureSkipVerify {
            warnings.append(
                "the kubeconfig sets insecure-skip-tls-verify: the API server's certificate is not checked, so anyone on the network path can pose as it and receive the credentials (set certificate-authority-data instead)"
            )
        }
        return warnings
    }
}
