import Foundation

/// A kubeconfig file (`apiVersion: v1`, `kind: Config`), as kubectl reads it.
///
/// Only the model: loading, merging and validation live in ``KubeconfigLoader``. Fields use
/// kubectl's spelling through `CodingKeys`. Secrets (tokens, passwords, key data, exec env values)
/// are ``Secret`` so printing a config never shows them. Lists that are absent or `null` in the file
/// decode as empty.
public struct Kubeconfig: Codable, Sendable, Equatable {
    public var apiVersion: String?
    public var kind: String?
    public var clusters: [NamedCluster]
    public var users: [NamedUser]
    public var contexts: [NamedContext]
    public var currentContext: String?
    public var preferences: Preferences?
    public var extensions: [NamedExtension]

    public init(
        apiVersion: String? = "v1",
        kind: String? = "Config",
        clusters: [NamedCluster] = [],
        users: [NamedUser] = [],
        contexts: [NamedContext] = [],
        currentContext: String? = nil,
        preferences: Preferences? = nil,
        extensions: [NamedExtension] = []
    ) {
        self.apiVersion = apiVersion
        self.kind = kind
        self.clusters = clusters
        self.users = users
        self.contexts = contexts
        self.currentContext = currentContext
        self.preferences = preferences
        self.extensions = extensions
    }

    enum CodingKeys: String, CodingKey {
        case apiVersion, kind, clusters, users, contexts, preferences, extensions
        case currentContext = "current-context"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        apiVersion = try c.decodeIfPresent(String.self, forKey: .apiVersion)
        kind = try c.decodeIfPresent(String.self, forKey: .kind)
        clusters = try c.decodeIfPresent([NamedCluster].self, forKey: .clusters) ?? []
        users = try c.decodeIfPresent([NamedUser].self, forKey: .users) ?? []
        contexts = try c.decodeIfPresent([NamedContext].self, forKey: .contexts) ?? []
        currentContext = try c.decodeIfPresent(String.self, forKey: .currentContext)
        preferences = try c.decodeIfPresent(Preferences.self, forKey: .preferences)
        extensions = try c.decodeIfPresent([NamedExtension].self, forKey: .extensions) ?? []
    }

    // MARK: - Lookup

    public func cluster(named name: String) -> Cluster? { clusters.first { $0.name == name }?.cluster }
    public func user(named name: String) -> AuthInfo? { users.first { $0.name == name }?.user }
    public func context(named name: String) -> Context? { contexts.first { $0.name == name }?.context }
}

// MARK: - Clusters

extension Kubeconfig {
    public struct NamedCluster: Codable, Sendable, Equatable {
        public var name: String
        public var cluster: Cluster

        public init(name: String, cluster: Cluster) {
            self.name = name
            self.cluster = cluster
        }
    }

    /// How to reach and trust one API server.
    public struct Cluster: Codable, Sendable, Equatable {
        public var server: String?
        /// Path to a PEM CA bundle; relative paths are relative to the kubeconfig file.
        public var certificateAuthority: String?
        /// Base64 of a PEM CA bundle; wins over ``certificateAuthority``.
        public var certificateAuthorityData: String?
        public var insecureSkipTLSVerify: Bool?
        /// Name used for SNI and certificate verification instead of the URL host.
        public var tlsServerName: String?
        /// Not supported by this client; the loader refuses it.
        public var proxyURL: String?
        public var disableCompression: Bool?
        public var extensions: [NamedExtension]

        public init(
            server: String? = nil,
            certificateAuthority: String? = nil,
            certificateAuthorityData: String? = nil,
            insecureSkipTLSVerify: Bool? = nil,
            tlsServerName: String? = nil,
            proxyURL: String? = nil,
            disableCompression: Bool? = nil,
            extensions: [NamedExtension] = []
        ) {
            self.server = server
            self.certificateAuthority = certificateAuthority
            self.certificateAuthorityData = certificateAuthorityData
            self.insecureSkipTLSVerify = insecureSkipTLSVerify
            self.tlsServerName = tlsServerName
            self.proxyURL = proxyURL
            self.disableCompression = disableCompression
            self.extensions = extensions
        }

        enum CodingKeys: String, CodingKey {
            case server, extensions
            case certificateAuthority = "certificate-authority"
            case certificateAuthorityData = "certificate-authority-data"
            case insecureSkipTLSVerify = "insecure-skip-tls-verify"
            case tlsServerName = "tls-server-name"
            case proxyURL = "proxy-url"
            case disableCompression = "disable-compression"
        }

        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            server = try c.decodeIfPresent(String.self, forKey: .server)
            certificateAuthority = try c.decodeIfPresent(String.self, forKey: .certificateAuthority)
            certificateAuthorityData = try c.decodeIfPresent(String.self, forKey: .certificateAuthorityData)
            insecureSkipTLSVerify = try c.decodeIfPresent(Bool.self, forKey: .insecureSkipTLSVerify)
            tlsServerName = try c.decodeIfPresent(String.self, forKey: .tlsServerName)
            proxyURL = try c.decodeIfPresent(String.self, forKey: .proxyURL)
            disableCompression = try c.decodeIfPresent(Bool.self, forKey: .disableCompression)
            extensions = try c.decodeIfPresent([NamedExtension].self, forKey: .extensions) ?? []
        }
    }
}

// MARK: - Users

extension Kubeconfig {
    public struct NamedUser: Codable, Sendable, Equatable {
        public var name: String
        public var user: AuthInfo

        public init(name: String, user: AuthInfo) {
            self.name = name
            self.user = user
        }
    }

    /// How to authenticate (kubectl's `AuthInfo`).
    public struct AuthInfo: Codable, Sendable, Equatable {
        public var clientCertificate: String?
        public var clientCertificateData: String?
        public var clientKey: String?
        public var clientKeyData: Secret<String>?
        public var token: Secret<String>?
        /// Path to a bearer token that is re-read on use (rotated service-account tokens).
        public var tokenFile: String?
        /// Basic auth; refused by the loader (removed from Kubernetes).
        public var username: String?
        public var password: Secret<String>?
        public var exec: ExecConfig?
        /// Legacy in-tree plugins (gcp, azure, oidc); refused by the loader.
        public var authProvider: AuthProviderConfig?
        /// Impersonation (`as`, `as-uid`, `as-groups`); refused by the loader rather than ignored,
        /// since ignoring it would act with the real, usually broader, identity.
        public var impersonate: String?
        public var impersonateUID: String?
        public var impersonateGroups: [String]?
        public var extensions: [NamedExtension]

        public init(
            clientCertificate: String? = nil,
            clientCertificateData: String? = nil,
            clientKey: String? = nil,
            clientKeyData: Secret<String>? = nil,
            token: Secret<String>? = nil,
            tokenFile: String? = nil,
            username: String? = nil,
            password: Secret<String>? = nil,
            exec: ExecConfig? = nil,
            authProvider: AuthProviderConfig? = nil,
            impersonate: String? = nil,
            impersonateUID: String? = nil,
            impersonateGroups: [String]? = nil,
            extensions: [NamedExtension] = []
        ) {
            self.clientCertificate = clientCertificate
            self.clientCertificateData = clientCertificateData
            self.clientKey = clientKey
            self.clientKeyData = clientKeyData
            self.token = token
            self.tokenFile = tokenFile
            self.username = username
            self.password = password
            self.exec = exec
            self.authProvider = authProvider
            self.impersonate = impersonate
            self.impersonateUID = impersonateUID
            self.impersonateGroups = impersonateGroups
            self.extensions = extensions
        }

        enum CodingKeys: String, CodingKey {
            case token, tokenFile, username, password, exec, extensions
            case clientCertificate = "client-certificate"
            case clientCertificateData = "client-certificate-data"
            case clientKey = "client-key"
            case clientKeyData = "client-key-data"
            case authProvider = "auth-provider"
            case impersonate = "as"
            case impersonateUID = "as-uid"
            case impersonateGroups = "as-groups"
        }

        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            clientCertificate = try c.decodeIfPresent(String.self, forKey: .clientCertificate)
            clientCertificateData = try c.decodeIfPresent(String.self, forKey: .clientCertificateData)
            clientKey = try c.decodeIfPresent(String.self, forKey: .clientKey)
            clientKeyData = try c.decodeIfPresent(Secret<String>.self, forKey: .clientKeyData)
            token = try c.decodeIfPresent(Secret<String>.self, forKey: .token)
            tokenFile = try c.decodeIfPresent(String.self, forKey: .tokenFile)
            username = try c.decodeIfPresent(String.self, forKey: .username)
            password = try c.decodeIfPresent(Secret<String>.self, forKey: .password)
            exec = try c.decodeIfPresent(ExecConfig.self, forKey: .exec)
            authProvider = try c.decodeIfPresent(AuthProviderConfig.self, forKey: .authProvider)
            impersonate = try c.decodeIfPresent(String.self, forKey: .impersonate)
            impersonateUID = try c.decodeIfPresent(String.self, forKey: .impersonateUID)
            impersonateGroups = try c.decodeIfPresent([String].self, forKey: .impersonateGroups)
            extensions = try c.decodeIfPresent([NamedExtension].self, forKey: .extensions) ?? []
        }
    }

    /// An exec credential plugin (client-go's `ExecConfig`).
    public struct ExecConfig: Codable, Sendable, Equatable {
        /// `client.authentication.k8s.io/v1` or `.../v1beta1`; the plugin must answer with the same.
        public var apiVersion: String?
        /// A name looked up on `PATH`, an absolute path, or a path with a `/` relative to the kubeconfig.
        public var command: String
        public var args: [String]
        /// Added to (and overriding) the current environment when the plugin runs.
        public var env: [ExecEnvVar]
        /// Shown to the user when the command is missing or fails.
        public var installHint: String?
        /// Pass the cluster's connection details in `KUBERNETES_EXEC_INFO`.
        public var provideClusterInfo: Bool
        /// `Never`, `IfAvailable` or `Always`.
        public var interactiveMode: String?

        public init(
            apiVersion: String? = nil,
            command: String,
            args: [String] = [],
            env: [ExecEnvVar] = [],
            installHint: String? = nil,
            provideClusterInfo: Bool = false,
            interactiveMode: String? = nil
        ) {
            self.apiVersion = apiVersion
            self.command = command
            self.args = args
            self.env = env
            self.installHint = installHint
            self.provideClusterInfo = provideClusterInfo
            self.interactiveMode = interactiveMode
        }

        enum CodingKeys: String, CodingKey {
            case apiVersion, command, args, env, installHint, provideClusterInfo, interactiveMode
        }

        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            apiVersion = try c.decodeIfPresent(String.self, forKey: .apiVersion)
            command = try c.decodeIfPresent(String.self, forKey: .command) ?? ""
            args = try c.decodeIfPresent([String].self, forKey: .args) ?? []
            env = try c.decodeIfPresent([ExecEnvVar].self, forKey: .env) ?? []
            installHint = try c.decodeIfPresent(String.self, forKey: .installHint)
            provideClusterInfo = try c.decodeIfPresent(Bool.self, forKey: .provideClusterInfo) ?? false
            interactiveMode = try c.decodeIfPresent(String.self, forKey: .interactiveMode)
        }
    }

    /// One `env` entry of an exec plugin. The value is a ``Secret``: plugins are often given keys this way.
    public struct ExecEnvVar: Codable, Sendable, Equatable {
        public var name: String
        public var value: Secret<String>

        public init(name: String, value: String) {
            self.name = name
            self.value = Secret(value)
        }
    }

    /// A legacy `auth-provider` entry; kept only so the loader can name it when refusing it.
    public struct AuthProviderConfig: Codable, Sendable, Equatable {
        public var name: String
        public var config: [String: Secret<String>]?

        public init(name: String, config: [String: Secret<String>]? = nil) {
            self.name = name
            self.config = config
        }
    }
}

// MARK: - Contexts, preferences, extensions

extension Kubeconfig {
    public struct NamedContext: Codable, Sendable, Equatable {
        public var name: String
        public var context: Context

        public init(name: String, context: Context) {
            self.name = name
            self.context = context
        }
    }

    /// A (cluster, user, namespace) triple.
    public struct Context: Codable, Sendable, Equatable {
        public var cluster: String
        public var user: String?
        public var namespace: String?
        public var extensions: [NamedExtension]

        public init(cluster: String, user: String? = nil, namespace: String? = nil, extensions: [NamedExtension] = []) {
            self.cluster = cluster
            self.user = user
            self.namespace = namespace
            self.extensions = extensions
        }

        enum CodingKeys: String, CodingKey { case cluster, user, namespace, extensions }

        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            cluster = try c.decodeIfPresent(String.self, forKey: .cluster) ?? ""
            user = try c.decodeIfPresent(String.self, forKey: .user)
            namespace = try c.decodeIfPresent(String.self, forKey: .namespace)
            extensions = try c.decodeIfPresent([NamedExtension].self, forKey: .extensions) ?? []
        }
    }

    public struct Preferences: Codable, Sendable, Equatable {
        public var colors: Bool?
        public var extensions: [NamedExtension]?

        public init(colors: Bool? = nil, extensions: [NamedExtension]? = nil) {
            self.colors = colors
            self.extensions = extensions
        }
    }

    public struct NamedExtension: Codable, Sendable, Equatable {
        public var name: String
        public var `extension`: ExtensionValue

        public init(name: String, extension: ExtensionValue) {
            self.name = name
            self.extension = `extension`
        }
    }

    /// Free-form YAML/JSON carried by `extensions` (and passed to exec plugins as `spec.cluster.config`).
    public indirect enum ExtensionValue: Codable, Sendable, Equatable {
        case null
        case bool(Bool)
        case int(Int)
        case double(Double)
        case string(String)
        case array([ExtensionValue])
        case object([String: ExtensionValue])

        public init(from decoder: any Decoder) throws {
            let c = try decoder.singleValueContainer()
            if c.decodeNil() {
                self = .null
            } else if let value = try? c.decode(Bool.self) {
                self = .bool(value)
            } else if let value = try? c.decode(Int.self) {
                self = .int(value)
            } else if let value = try? c.decode(Double.self) {
                self = .double(value)
            } else if let value = try? c.decode(String.self) {
                self = .string(value)
            } else if let value = try? c.decode([ExtensionValue].self) {
                self = .array(value)
            } else {
                self = .object(try c.decode([String: ExtensionValue].self))
            }
        }

        public func encode(to encoder: any Encoder) throws {
            var c = encoder.singleValueContainer()
            switch self {
            case .null: try c.encodeNil()
            case .bool(let v): try c.encode(v)
            case .int(let v): try c.encode(v)
            case .double(let v): try c.encode(v)
            case .string(let v): try c.encode(v)
            case .array(let v): try c.encode(v)
            case .object(let v): try c.encode(v)
            }
        }
    }
}

// MARK: - Relative paths

extension Kubeconfig {
    /// Returns a copy whose relative file references are made absolute against `directory`, the
    /// folder of the file this config was read from. kubectl does the same per file, before merging,
    /// so a path always means "next to the file that mentions it".
    ///
    /// Covers `certificate-authority`, `client-certificate`, `client-key`, `tokenFile`, and an exec
    /// `command` that contains a `/` (a bare name is looked up on `PATH` instead).
    public func resolvingRelativePaths(against directory: String) -> Kubeconfig {
        var copy = self
        for index in copy.clusters.indices {
            copy.clusters[index].cluster.certificateAuthority = Self.absolute(
                copy.clusters[index].cluster.certificateAuthority, in: directory)
        }
        for index in copy.users.indices {
            var user = copy.users[index].user
            user.clientCertificate = Self.absolute(user.clientCertificate, in: directory)
            user.clientKey = Self.absolute(user.clientKey, in: directory)
            user.tokenFile = Self.absolute(user.tokenFile, in: directory)
            if var exec = user.exec, exec.command.contains("/") {
                exec.command = Self.absolute(exec.command, in: directory) ?? exec.command
                user.exec = exec
            }
            copy.users[index].user = user
        }
        return copy
    }

    static func absolute(_ path: String?, in directory: String) -> String? {
        guard let path, !path.isEmpty, !path.hasPrefix("/") else { return path }
        return Self.joinPath(directory, path)
    }
}

// Helpers are static members, not free functions: other files of the KubeClient module are written
// in parallel, and a module-level `joinPath` or `nonEmpty` elsewhere would clash.
extension Kubeconfig {
    /// Joins two path pieces with exactly one `/`, without touching the file system.
    static func joinPath(_ directory: String, _ name: String) -> String {
        if directory.isEmpty { return name }
        if name.hasPrefix("/") { return name }
        var prefix = directory
        while prefix.count > 1 && prefix.hasSuffix("/") { prefix.removeLast() }
        return prefix == "/" ? "/" + name : prefix + "/" + name
    }

    /// The folder part of a path (`/a/b/c.yaml` → `/a/b`).
    static func parentDirectory(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        let parent = String(path[..<slash])
        return parent.isEmpty ? "/" : parent
    }

    /// `nil` for `nil` or empty strings, so "set but empty" behaves like "not set" (as in kubectl).
    static func nonEmpty(_ value: String?) -> String? {
        guard let value, !value.isEmpty else { return nil }
        return value
    }
}
