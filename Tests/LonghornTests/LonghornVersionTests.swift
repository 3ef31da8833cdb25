import CLITestSupport
import Foundation
import Testing

@testable import Longhorn

@Suite struct LonghornVersionTests {
    @Test func parsesTheFormsLonghornWrites() throws {
        #expect(try LonghornVersion(parsing: "v1.10.2") == LonghornVersion(major: 1, minor: 10, patch: 2))
        #expect(try LonghornVersion(parsing: "1.7.3") == LonghornVersion(major: 1, minor: 7, patch: 3))
        #expect(try LonghornVersion(parsing: "v1.9") == LonghornVersion(major: 1, minor: 9, patch: 0))
        let dev = try LonghornVersion(parsing: "v1.8.3-dev-20250101")
        #expect(dev.prerelease == "dev-20250101")
        #expect(dev.description == "v1.8.3-dev-20250101")
        #expect(try LonghornVersion(parsing: " v1.12.1\n").description == "v1.12.1")
        for bad in ["", "latest", "v1", "v1.x.2", "v1.2.3.4", "master-head"] {
            let error = #expect(throws: LonghornError.self) { try LonghornVersion(parsing: bad) }
            #expect(error?.code == .unsupportedVersion)
        }
    }

    @Test func ordersNumericallyWithPrereleasesFirst() throws {
        let versions = try ["v1.10.0", "v1.9.2", "v1.10.0-rc1", "v1.7.3", "v1.12.1"].map { try LonghornVersion(parsing: $0) }
        #expect(versions.sorted().map(\.description) == ["v1.7.3", "v1.9.2", "v1.10.0-rc1", "v1.10.0", "v1.12.1"])
    }

    struct Traits: Sendable, CustomStringConvertible {
        var version: String
        var naming: LonghornVersion.BackupVolumeNaming
        var source: LonghornVersion.BackupTargetSource
        var needsVolumeLabel: Bool
        var needsTargetLabel: Bool
        var needsAvailableTarget: Bool
        var v1Frontends: [String]
        var description: String { version }
    }

    /// longhorn-facts.md sections 1.2, 2.4, 4.2, 6.1, one row per release line.
    static let table: [Traits] = [
        Traits(
            version: "v1.6.4", naming: .volumeName, source: .settings, needsVolumeLabel: true, needsTargetLabel: false, needsAvailableTarget: false,
            v1Frontends: ["blockdev", "iscsi", "nvmf"]),
        Traits(
            version: "v1.7.3", naming: .volumeName, source: .settings, needsVolumeLabel: true, needsTargetLabel: false, needsAvailableTarget: false,
            v1Frontends: ["blockdev", "iscsi", "nvmf"]),
        Traits(
            version: "v1.8.0", naming: .randomSuffix, source: .backupTargetResource, needsVolumeLabel: true, needsTargetLabel: false,
            needsAvailableTarget: false, v1Frontends: ["blockdev", "iscsi", "nvmf"]),
        Traits(
            version: "v1.8.2", naming: .randomSuffix, source: .backupTargetResource, needsVolumeLabel: true, needsTargetLabel: false,
            needsAvailableTarget: false, v1Frontends: ["blockdev", "iscsi", "nvmf"]),
        Traits(
            version: "v1.8.3-dev-20250101", naming: .hashedSuffix, source: .backupTargetResource, needsVolumeLabel: true, needsTargetLabel: false,
            needsAvailableTarget: false, v1Frontends: ["blockdev", "iscsi", "nvmf"]),
        Traits(
            version: "v1.9.0", naming: .randomSuffix, source: .backupTargetResource, needsVolumeLabel: true, needsTargetLabel: true, needsAvailableTarget: true,
            v1Frontends: ["blockdev", "iscsi"]),
        Traits(
            version: "v1.9.1", naming: .hashedSuffix, source: .backupTargetResource, needsVolumeLabel: true, needsTargetLabel: true, needsAvailableTarget: true,
            v1Frontends: ["blockdev", "iscsi"]),
        Traits(
            version: "v1.9.2", naming: .hashedSuffix, source: .backupTargetResource, needsVolumeLabel: true, needsTargetLabel: true, needsAvailableTarget: true,
            v1Frontends: ["blockdev", "iscsi"]),
        Traits(
            version: "v1.10.2", naming: .hashedSuffix, source: .backupTargetResource, needsVolumeLabel: false, needsTargetLabel: true,
            needsAvailableTarget: true, v1Frontends: ["blockdev", "iscsi"]),
        Traits(
            version: "v1.12.1", naming: .hashedSuffix, source: .backupTargetResource, needsVolumeLabel: false, needsTargetLabel: true,
            needsAvailableTarget: true, v1Frontends: ["blockdev", "iscsi"]),
    ]

    @Test(arguments: table)
    func traitsPerRelease(_ row: Traits) throws {
        let version = try LonghornVersion(parsing: row.version)
        #expect(version.backupVolumeNaming == row.naming)
        #expect(version.backupTargetSource == row.source)
        #expect(version.backupRequiresVolumeLabel == row.needsVolumeLabel)
        #expect(version.backupRequiresTargetLabel == row.needsTargetLabel)
        #expect(version.backupRequiresAvailableTarget == row.needsAvailableTarget)
        #expect(version.allowedFrontends(dataEngine: "v1") == row.v1Frontends)
        #expect(version.allowedFrontends(dataEngine: "v1").contains(LonghornManifests.frontend), "blockdev is valid everywhere")
        #expect(version.isSupported)
    }

    @Test func supportWindow() throws {
        #expect(try !LonghornVersion(parsing: "v1.5.5").isSupported)
        #expect(try !LonghornVersion(parsing: "v1.13.0").isSupported)
        #expect(try LonghornVersion(parsing: "v1.9.2").allowedFrontends(dataEngine: "v2") == ["blockdev", "nvmf", "ublk"])
    }

    /// Expected values computed outside Swift: python3 hashlib.sha256(f"{vol}-{target}").hexdigest()[:8].
    @Test(arguments: [
        ("dr-exercise-data", "default", "dr-exercise-data-77a0e0e7"),
        ("pvc-0a1b2c3d", "default", "pvc-0a1b2c3d-f8953579"),
        ("data", "s3-secondary", "data-3f9539c1"),
    ])
    func hashedBackupVolumeNames(volume: String, target: String, expected: String) throws {
        #expect(LonghornVersion.hashedBackupVolumeName(volume: volume, target: target) == expected)
        #expect(try LonghornVersion(parsing: "v1.10.2").expectedBackupVolumeName(volume: volume, target: target) == expected)
        #expect(try LonghornVersion(parsing: "v1.7.3").expectedBackupVolumeName(volume: volume, target: target) == volume)
        #expect(try LonghornVersion(parsing: "v1.9.0").expectedBackupVolumeName(volume: volume, target: target) == nil, "random: unpredictable")
    }

    /// A second, independent computation through the system's sha256sum.
    @Test func hashedNameAgreesWithSha256sum() async throws {
        let sha256sum = try TestTool.locate("sha256sum", hint: "it is part of coreutils")
        let text = try await TestTool.succeed(sha256sum, [], input: Data("my-volume-backup-target-2".utf8))
        let hex = try #require(text.split(separator: " ").first)
        #expect(LonghornVersion.hashedBackupVolumeName(volume: "my-volume", target: "backup-target-2") == "my-volume-\(hex.prefix(8))")
    }
}
