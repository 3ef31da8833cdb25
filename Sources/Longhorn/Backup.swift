import Foundation
import KubeClient
import KubeModels

/// `backups.longhorn.io` (short name `lhb`): one backup in the store (section 2). Its name is
/// the backup's name in the store; its `status.url` is what a restore's `fromBackup` takes.
public struct Backup: LonghornModel, Hashable {
    public static let resource = LonghornResources.backups
    public static let kind = "Backup"

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
        /// The Snapshot to back up; empty on CRs pulled from the store.
        public var snapshotName: String?
        public var labels: [String: String]?
        public var syncRequestedAt: String?
        /// v1.7+: `full` or `incremental`.
        public var backupMode: String?

        public init(snapshotName: String? = nil, labels: [String: String]? = nil, backupMode: String? = nil) {
            self.snapshotName = snapshotName
            self.labels = labels
            self.backupMode = backupMode
        }
    }

    public struct Status: Codable, Sendable, Hashable {
        /// `""` (new), `Pending`, `InProgress`, `Completed`, `Error`, `Unknown`, v1.8+ `Deleting`.
        public var state: String?
        public var progress: Int?
        public var error: String?
        /// `<target URL>?backup=<name>&volume=<volume>`.
        public var url: String?
        public var snapshotName: String?
        public var snapshotCreatedAt: String?
        /// When the upload finished.
        public var backupCreatedAt: String?
        /// Bytes, as a decimal string.
        public var volumeSize: String?
        public var volumeName: String?
        public var size: String?
        public var messages: [String: String]?
        public var lastSyncedAt: String?
        /// v1.8+.
        public var backupTargetName: String?
        /// The backup's labels as stored; a recurring job's backups carry `RecurringJob: <job>`.
        public var labels: [String: String]?

        public init(
            state: String? = nil, progress: Int? = nil, error: String? = nil, url: String? = nil,
            snapshotCreatedAt: String? = nil, backupCreatedAt: String? = nil, volumeSize: String? = nil, volumeName: String? = nil,
            backupTargetName: String? = nil
        ) {
            self.state = state
            self.progress = progress
            self.error = error
            self.url = url
            self.snapshotCreatedAt = snapshotCreatedAt
            self.backupCreatedAt = backupCreatedAt
            self.volumeSize = volumeSize
            self.volumeName = volumeName
            self.backupTargetName = backupTargetName
        }
    }

    /// Backup states as Longhorn names them.
    public enum State {
        public static let completed = "Completed"
        public static let error = "Error"
        public static let unknown = "Unknown"
        public static let deleting = "Deleting"
        /// Final states that mean failure: `Error`, `Unknown`, and (v1.8+) `Deleting`.
        public static let failed: Set<String> = [error, unknown, deleting]
    }

    public var state: String { status?.state ?? "" }
    public var isCompleted: Bool { state == State.completed }
    public var hasFailed: Bool { State.failed.contains(state) }

    /// The volume this backup belongs to: the `backup-volume` label, else `status.volumeName`.
    public var volumeName: String? {
        metadata.label(LonghornLabels.backupVolume) ?? status?.volumeName.flatMap { $0.isEmpty ? nil : $0 }
    }

    /// The target it belongs to (v1.8+): `status.backupTargetName`, else the `backup-target` label.
    public var backupTargetName: String? {
        status?.backupTargetName.flatMap { $0.isEmpty ? nil : $0 } ?? metadata.label(LonghornLabels.backupTarget)
    }

    /// The volume size in bytes, from `status.volumeSize`.
    public var volumeSizeBytes: Int64? { status?.volumeSize.flatMap { Int64($0) } }

    /// The time a point-in-time choice orders by: the snapshot's creation, else the upload's end.
    public var pointInTime: Date? {
        LonghornTime.parse(status?.snapshotCreatedAt) ?? LonghornTime.parse(status?.backupCreatedAt)
    }

    /// Longhorn's own words about this backup: `status.error` and `status.messages`.
    public var errorText: String {
        var parts: [String] = []
        if let error = status?.error, !error.isEmpty { parts.append(error) }
        for (key, message) in (status?.messages ?? [:]).sorted(by: { $0.key < $1.key }) { parts.append("\(key): \(message)") }
        return parts.isEmpty ? "no error text from Longhorn" : parts.joined(separator: "; ")
    }

    /// Names Longhorn accepts for a Backup (`util.ValidateName`, checked by the v1.8+ validator).
    public static func isValidName(_ name: String) -> Bool {
        guard let first = name.unicodeScalars.first, name.unicodeScalars.count >= 2 else { return false }
        func plain(_ c: Unicode.Scalar) -> Bool { ("a"..."z").contains(c) || ("0"..."9").contains(c) }
        return plain(first) && name.unicodeScalars.dropFirst().allSatisfy { plain($0) || $0 == "_" || $0 == "." || $0 == "-" }
    }

    /// `backup-` plus 16 random hex digits, the shape Longhorn generates itself.
    public static func generateName() -> String {
        "backup-" + (0..<8).map { _ in String(format: "%02x", UInt8.random(in: 0...255)) }.joined()
    }
}
