import Crypto
import Foundation

/// An installed Longhorn version (`v1.10.2`, `v1.8.3-dev-20250101`) and the behaviour that
/// differs between releases (longhorn-facts.md sections 1.2, 2.4, 4.2, 6.1).
public struct LonghornVersion: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var major: Int
    public var minor: Int
    public var patch: Int
    /// `dev-20250101`, `rc1`... Ignored by the traits: a pre-release behaves like its release line.
    public var prerelease: String?

    public init(major: Int, minor: Int, patch: Int, prerelease: String? = nil) {
        self.major = major
        self.minor = minor
        self.patch = patch
        self.prerelease = prerelease
    }

    /// Parses `v1.10.2`, `1.10.2`, `v1.10` or `v1.8.3-dev-20250101` (what the Setting
    /// `current-longhorn-version` and image tags hold).
    /// - Throws: `.unsupportedVersion` when the text is not a version.
    public init(parsing text: String) throws(LonghornError) {
        var rest = Substring(text.trimmingCharacters(in: .whitespacesAndNewlines))
        if rest.hasPrefix("v") || rest.hasPrefix("V") { rest = rest.dropFirst() }
        var prerelease: String?
        if let dash = rest.firstIndex(where: { $0 == "-" || $0 == "+" }) {
            prerelease = String(rest[rest.index(after: dash)...])
            rest = rest[..<dash]
        }
        let parts = rest.split(separator: ".", omittingEmptySubsequences: false)
        let numbers = parts.compactMap { Int($0) }
        guard (2...3).contains(parts.count), numbers.count == parts.count, numbers.allSatisfy({ $0 >= 0 }) else {
            throw LonghornError(.unsupportedVersion, subject: "Longhorn version \"\(text)\"", detail: "is not a version like v1.10.2")
        }
        self.init(
            major: numbers[0], minor: numbers[1], patch: numbers.count == 3 ? numbers[2] : 0,
            prerelease: prerelease.flatMap { $0.isEmpty ? nil : $0 })
    }

    public var description: String {
        "v\(major).\(minor).\(patch)" + (prerelease.map { "-\($0)" } ?? "")
    }

    public static func < (lhs: LonghornVersion, rhs: LonghornVersion) -> Bool {
        if (lhs.major, lhs.minor, lhs.patch) != (rhs.major, rhs.minor, rhs.patch) {
            return (lhs.major, lhs.minor, lhs.patch) < (rhs.major, rhs.minor, rhs.patch)
        }
        // Semantic versioning: a pre-release sorts before its release.
        switch (lhs.prerelease, rhs.prerelease) {
        case (nil, nil), (nil, _): return false
        case (_, nil): return true
        case (let left?, let right?): return left < right
        }
    }

    /// Compares release numbers only, so `v1.9.1-rc1` counts as 1.9.1 for the traits below.
    func atLeast(_ major: Int, _ minor: Int, _ patch: Int = 0) -> Bool {
        (self.major, self.minor, self.patch) >= (major, minor, patch)
    }

    // MARK: - Support

    /// The releases this tool was written and tested against.
    public static let oldestSupported = LonghornVersion(major: 1, minor: 6, patch: 0)
    public static let newestKnownMinor = LonghornVersion(major: 1, minor: 12, patch: 0)

    public var isSupported: Bool { atLeast(1, 6) && !atLeast(1, 13) }

    // MARK: - BackupVolume naming (section 1.2)

    public enum BackupVolumeNaming: Sendable, Hashable {
        /// ≤ v1.7: the CR is named exactly like the volume.
        case volumeName
        /// v1.8.0 – v1.8.2 and v1.9.0: `<volume>-<8 random chars>`, unpredictable.
        case randomSuffix
        /// v1.9.1+ (and the v1.8.x branch after v1.8.2): `<volume>-<first 8 hex of sha256("<volume>-<target>")>`.
        case hashedSuffix
    }

    public var backupVolumeNaming: BackupVolumeNaming {
        if !atLeast(1, 8) { return .volumeName }
        if minor == 8 && major == 1 { return patch >= 3 ? .hashedSuffix : .randomSuffix }
        if major == 1 && minor == 9 && patch == 0 { return .randomSuffix }
        return .hashedSuffix
    }

    /// The name Longhorn gives the BackupVolume of `volume` on `target`, when it is predictable.
    /// Upgraded clusters keep older names, so this is a hint, never the way to find one
    /// (use the labels or `spec.volumeName`).
    public func expectedBackupVolumeName(volume: String, target: String = LonghornResources.defaultBackupTarget) -> String? {
        switch backupVolumeNaming {
        case .volumeName: return volume
        case .randomSuffix: return nil
        case .hashedSuffix: return Self.hashedBackupVolumeName(volume: volume, target: target)
        }
    }

    /// `<volume>-` plus the first 8 hex digits of SHA-256 over `"<volume>-<target>"`.
    public static func hashedBackupVolumeName(volume: String, target: String) -> String {
        let digest = SHA256.hash(data: Data("\(volume)-\(target)".utf8))
        let hex = digest.map { String(format: "%02x", $0) }.joined()
        return "\(volume)-\(hex.prefix(8))"
    }

    // MARK: - Backup target (section 6.1)

    public enum BackupTargetSource: Sendable, Hashable {
        /// ≤ v1.7: Settings `backup-target`, `backup-target-credential-secret`,
        /// `backupstore-poll-interval`; the `default` BackupTarget CR mirrors them.
        case settings
        /// v1.8+: the BackupTarget CRs (`default` unless a volume names another).
        case backupTargetResource
    }

    public var backupTargetSource: BackupTargetSource { atLeast(1, 8) ? .backupTargetResource : .settings }

    /// v1.8+: several targets; Volumes carry `spec.backupTargetName`, BackupVolumes `spec.volumeName`
    /// and `spec.backupTargetName`, and both carry the `backup-target` label.
    public var hasMultipleBackupTargets: Bool { atLeast(1, 8) }

    // MARK: - Backup creation rules (section 2.4)

    /// v1.5 – v1.9: the Backup mutator fails the request without the `backup-volume` label.
    /// v1.10+ derives it from `spec.snapshotName`; we set it on every version anyway.
    public var backupRequiresVolumeLabel: Bool { !atLeast(1, 10) }

    /// v1.9+: the validator requires the `backup-target` label (v1.8 adds it itself).
    public var backupRequiresTargetLabel: Bool { atLeast(1, 9) }

    /// v1.9+: a Backup is refused while its BackupTarget is not `status.available`.
    public var backupRequiresAvailableTarget: Bool { atLeast(1, 9) }

    /// v1.7+: `spec.backupMode` (`full` / `incremental`) exists.
    public var supportsBackupMode: Bool { atLeast(1, 7) }

    // MARK: - Volume frontends (section 4.2)

    /// Frontends the Volume validator accepts for a non-standby volume of `dataEngine`.
    /// An empty frontend is never accepted; CSI attaches only `blockdev` (and `ublk`).
    public func allowedFrontends(dataEngine: String = "v1") -> [String] {
        if !atLeast(1, 9) { return ["blockdev", "iscsi", "nvmf"] }
        return dataEngine == "v2" ? ["blockdev", "nvmf", "ublk"] : ["blockdev", "iscsi"]
    }
}
