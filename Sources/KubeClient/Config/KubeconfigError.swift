/// Why loading a kubeconfig, building TLS from it or running an exec credential plugin failed.
///
/// Shaped like the project's other errors (see docs/style.md): a stable ``code`` to match on, the
/// ``subject`` it is about (a file, a context, a plugin command), a ``detail`` sentence and, where
/// the operator can act, a ``hint``. When no configuration source works at all, ``sourceFailures``
/// holds one reason per source that was tried.
///
/// Nothing in here ever contains a token, key or password: details are built from field names and
/// paths, never from values, and a plugin's standard output is never quoted (it may hold a token).
public struct KubeconfigError: Error, Sendable, CustomStringConvertible {
    /// A stable, matchable error category.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Storage: String, Hashable, Sendable {
            case noConfiguration
            case fileNotFound
            case fileUnreadable
            case invalidKubeconfig
            case noCurrentContext
            case contextNotFound
            case clusterNotFound
            case userNotFound
            case invalidServerURL
            case invalidBase64
            case invalidPEM
            case unsupportedSetting
            case conflictingSettings
            case inClusterUnavailable
            case tokenFileUnreadable
            case execPluginNotFound
            case execPluginFailed
            case execPluginTimedOut
            case execPluginInvalidOutput
            case execPluginAPIVersionMismatch
        }

        private let storage: Storage
        private init(_ storage: Storage) { self.storage = storage }

        public var description: String { storage.rawValue }

        /// No source (`--kubeconfig`, `$KUBECONFIG`, `~/.kube/config`, in-cluster) gave a configuration.
        public static let noConfiguration = Code(.noConfiguration)
        /// A file named explicitly (or by a kubeconfig field) does not exist.
        public static let fileNotFound = Code(.fileNotFound)
        /// A file exists but could not be read.
        public static let fileUnreadable = Code(.fileUnreadable)
        /// A kubeconfig file is not valid YAML or does not have the kubeconfig shape.
        public static let invalidKubeconfig = Code(.invalidKubeconfig)
        /// Neither `--context` nor `current-context` names a context.
        public static let noCurrentContext = Code(.noCurrentContext)
        /// The selected context is not defined.
        public static let contextNotFound = Code(.contextNotFound)
        /// The context names a cluster that is not defined.
        public static let clusterNotFound = Code(.clusterNotFound)
        /// The context names a user that is not defined.
        public static let userNotFound = Code(.userNotFound)
        /// `server` is missing or is not an http(s) URL with a host.
        public static let invalidServerURL = Code(.invalidServerURL)
        /// A `*-data` field is not valid base64.
        public static let invalidBase64 = Code(.invalidBase64)
        /// Certificate or key bytes are not PEM that TLS can use.
        public static let invalidPEM = Code(.invalidPEM)
        /// A setting this client refuses (proxy-url, auth-provider, basic auth, interactive exec, …).
        public static let unsupportedSetting = Code(.unsupportedSetting)
        /// Two settings that cannot be combined.
        public static let conflictingSettings = Code(.conflictingSettings)
        /// The in-cluster service account configuration is incomplete.
        public static let inClusterUnavailable = Code(.inClusterUnavailable)
        /// A `tokenFile` could not be read when a request needed it.
        public static let tokenFileUnreadable = Code(.tokenFileUnreadable)
        /// The exec plugin's command was not found.
        public static let execPluginNotFound = Code(.execPluginNotFound)
        /// The exec plugin could not be started or exited non-zero.
        public static let execPluginFailed = Code(.execPluginFailed)
        /// The exec plugin did not finish in time and was killed.
        public static let execPluginTimedOut = Code(.execPluginTimedOut)
        /// The exec plugin's output is not a usable ExecCredential.
        public static let execPluginInvalidOutput = Code(.execPluginInvalidOutput)
        /// The exec plugin answered with another apiVersion than the kubeconfig asked for.
        public static let execPluginAPIVersionMismatch = Code(.execPluginAPIVersionMismatch)
    }

    /// One configuration source and why it gave nothing, for ``Code/noConfiguration``.
    public struct SourceFailure: Sendable, Hashable, CustomStringConvertible {
        /// The source as a user would name it: `--kubeconfig a.yaml`, `$KUBECONFIG (a:b)`,
        /// `~/.kube/config`, `in-cluster`.
        public let source: String
        /// Why it gave nothing.
        public let reason: String

        public init(source: String, reason: String) {
            self.source = source
            self.reason = reason
        }

        public var description: String { "\(source): \(reason)" }
    }

    public let code: Code
    /// What the error is about: a file path, `context "prod"`, `exec plugin "aws"`.
    public let subject: String?
    /// What happened, in one or two sentences.
    public let detail: String
    /// The next step for the operator, when there is one.
    public let hint: String?
    /// For ``Code/noConfiguration``: every source tried, in order, with its reason.
    public let sourceFailures: [SourceFailure]
    /// The lower-level error (file system, process launch). Never holds secret material.
    public let underlying: (any Error)?

    public init(
        code: Code,
        subject: String? = nil,
        detail: String,
        hint: String? = nil,
        sourceFailures: [SourceFailure] = [],
        underlying: (any Error)? = nil
    ) {
        self.code = code
        self.subject = subject
        self.detail = detail
        self.hint = hint
        self.sourceFailures = sourceFailures
        self.underlying = underlying
    }

    public var description: String {
        var text = subject.map { "\($0): \(detail)" } ?? detail
        if let hint {
            text += "\n  hint: \(hint)"
        }
        return text
    }
}
