import KubeClient

/// A failed Longhorn operation: what failed, on which Longhorn object, Longhorn's own words
/// (`status.error`, messages, conditions, webhook text), and what the operator can do next.
public struct LonghornError: Error, Sendable, CustomStringConvertible {
    /// Stable, matchable reasons. A struct over names (not an enum) so new codes do not break callers.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        let name: String
        public var description: String { name }

        /// The object does not exist.
        public static let notFound = Code(name: "NotFound")
        /// The backup a restore policy pins (by name or as-of time) does not exist after a
        /// confirmed sync. Never answered by falling back to another backup.
        public static let backupNotFound = Code(name: "BackupNotFound")
        /// More than one object matches where Longhorn itself expects exactly one.
        public static let ambiguous = Code(name: "Ambiguous")
        /// A wait ran out of time; the detail says what the object looked like last.
        public static let timeout = Code(name: "Timeout")
        /// A snapshot failed or vanished.
        public static let snapshotFailed = Code(name: "SnapshotFailed")
        /// A backup ended in Error, Unknown or Deleting, or vanished.
        public static let backupFailed = Code(name: "BackupFailed")
        /// A restore faulted or its `Restore` condition reports `RestoreFailure`.
        public static let restoreFailed = Code(name: "RestoreFailed")
        /// The backup target is missing, unconfigured or not available.
        public static let backupTargetUnavailable = Code(name: "BackupTargetUnavailable")
        /// An object exists but is not the one we would have made (different backup, other claim...).
        public static let conflict = Code(name: "Conflict")
        /// The installed Longhorn version could not be read or is outside what we support.
        public static let unsupportedVersion = Code(name: "UnsupportedVersion")
        /// A caller-supplied value Longhorn would refuse (backup name, size...).
        public static let invalidArgument = Code(name: "InvalidArgument")
        /// An object did not have the shape Longhorn's API promises.
        public static let decoding = Code(name: "Decoding")
        /// The Kubernetes API call itself failed (see `underlying`).
        public static let kubernetes = Code(name: "Kubernetes")
    }

    public var code: Code
    /// The Longhorn object, e.g. `backups.longhorn.io longhorn-system/backup-0123456789abcdef`.
    public var subject: String
    public var detail: String
    public var hint: String?
    /// The Kubernetes error this one wraps, when an API call failed.
    public var underlying: KubeClientError?

    public init(_ code: Code, subject: String, detail: String, hint: String? = nil, underlying: KubeClientError? = nil) {
        self.code = code
        self.subject = subject
        self.detail = detail
        self.hint = hint
        self.underlying = underlying
    }

    public var description: String {
        var text = "\(subject): \(detail)"
        if let hint { text += "\n  hint: \(hint)" }
        return text
    }

    /// Wraps a failed API call, keeping the server's message (a webhook's denial text included).
    static func kube(_ error: KubeClientError, subject: String, hint: String? = nil) -> LonghornError {
        let code: Code
        switch error.code {
        case .notFound: code = .notFound
        case .timeout: code = .timeout
        case .decoding: code = .decoding
        default: code = .kubernetes
        }
        return LonghornError(code, subject: subject, detail: error.detail, hint: hint ?? error.hint, underlying: error)
    }
}
