import Crypto
import Foundation

/// Which Longhorn release the simulated manager behaves like. The differences that matter for
/// backups and restores (longhorn-facts.md sections 1.2, 2.4, 4.2, 6.1) are switched on the version.
public struct LonghornPersonality: Sendable, Hashable, CustomStringConvertible {
    public var major: Int
    public var minor: Int
    public var patch: Int

    public init?(_ text: String) {
        let parts = text.trimmingCharacters(in: .whitespaces).drop { $0 == "v" }.split(separator: ".").compactMap { Int($0.prefix { $0.isNumber }) }
        guard parts.count >= 2 else { return nil }
        major = parts[0]
        minor = parts[1]
        patch = parts.count > 2 ? parts[2] : 0
    }

    public var description: String { "v\(major).\(minor).\(patch)" }

    /// The personalities the simulator is tested with.
    public static let supported = ["v1.7.3", "v1.9.0", "v1.9.2", "v1.10.2", "v1.12.1"].compactMap(LonghornPersonality.init)
    public static let `default` = LonghornPersonality("v1.10.2")!

    func atLeast(_ major: Int, _ minor: Int, _ patch: Int = 0) -> Bool {
        (self.major, self.minor, self.patch) >= (major, minor, patch)
    }

    /// ≤1.7: Settings hold the target; 1.8+: the BackupTarget CR does.
    var targetInSettings: Bool { !atLeast(1, 8) }
    /// 1.8+: BackupVolumes carry `backup-volume`/`backup-target` labels and spec.volumeName.
    var labelsBackupVolumes: Bool { atLeast(1, 8) }
    /// ≤1.9: a Backup without the `backup-volume` label is refused by the webhook.
    var backupNeedsVolumeLabel: Bool { !atLeast(1, 10) }
    /// 1.9+: no backup while the target is unavailable; `available` flips before the first listing.
    var backupNeedsAvailableTarget: Bool { atLeast(1, 9) }

    /// The BackupVolume CR name for a store volume.
    func backupVolumeName(volume: String, target: String) -> String {
        if !atLeast(1, 8) { return volume }
        if atLeast(1, 9, 1) {
            let digest = SHA256.hash(data: Data("\(volume)-\(target)".utf8)).map { String(format: "%02x", $0) }.joined()
            return "\(volume)-\(digest.prefix(8))"
        }
        let random = UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
        return "\(volume)-\(random.prefix(8))"
    }

    /// Frontends the volume validator accepts for a v1-engine volume.
    var allowedFrontends: [String] { atLeast(1, 9) ? ["blockdev", "iscsi"] : ["blockdev", "iscsi", "nvmf"] }
}
