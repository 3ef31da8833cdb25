import Foundation
import KubeClient
import KubeModels

/// `backuptargets.longhorn.io` (short name `lhbt`): where backups go (section 6). On v1.8+ it is
/// the configuration; on ≤ v1.7 the `default` one mirrors the Settings.
public struct BackupTarget: LonghornModel, Hashable {
    public static let resource = LonghornResources.backupTargets
    public static let kind = "BackupTarget"

    public var metadata: ResourceMetadata
    public var spec: Spec?
    public var status: Status?
    public var original: JSONValue?

    public init(metadata: ResourceMetadata, spec: Spec? = nil, status: Status? = nil) {
        self.metadata = metadata
        self.spec = spec
        self.status = status
    }

    enum CodingKeys: String, CodingKey { case metadata, spec, status }

    public struct Spec: Codable, Sendable, Hashable {
        public var backupTargetURL: String?
        public var credentialSecret: String?
        /// A Go duration, e.g. `5m0s`.
        public var pollInterval: String?
        public var syncRequestedAt: String?

        public init(backupTargetURL: String? = nil, credentialSecret: String? = nil, pollInterval: String? = nil, syncRequestedAt: String? = nil) {
            self.backupTargetURL = backupTargetURL
            self.credentialSecret = credentialSecret
            self.pollInterval = pollInterval
            self.syncRequestedAt = syncRequestedAt
        }
    }

    public struct Status: Codable, Sendable, Hashable {
        public var available: Bool?
        public var lastSyncedAt: String?
        /// `Unavailable` with the store error in `message` when the target cannot be reached.
        public var conditions: [LonghornCondition]?
        public var ownerID: String?

        public init(available: Bool? = nil, lastSyncedAt: String? = nil, conditions: [LonghornCondition]? = nil) {
            self.available = available
            self.lastSyncedAt = lastSyncedAt
            self.conditions = conditions
        }
    }

    public var isAvailable: Bool { status?.available == true }
    public var lastSyncedAt: Date? { LonghornTime.parse(status?.lastSyncedAt) }

    /// Whether the target has been listed after `time`: available, with `lastSyncedAt` later.
    public func isSynced(after time: Date) -> Bool {
        guard isAvailable, let synced = lastSyncedAt else { return false }
        return synced >= time
    }

    /// Longhorn's own explanation of why the target is unavailable, if it gave one.
    public var unavailableReason: String? {
        let messages = (status?.conditions ?? []).filter { $0.type == "Unavailable" && $0.isTrue }
            .compactMap { condition in condition.message.flatMap { $0.isEmpty ? nil : $0 } ?? condition.reason }
        return messages.isEmpty ? nil : messages.joined(separator: "; ")
    }
}
