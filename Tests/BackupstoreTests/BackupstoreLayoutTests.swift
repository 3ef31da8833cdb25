import Crypto
import Foundation
import Testing

@testable import Backupstore

@Suite("Backupstore layout")
struct BackupstoreLayoutTests {
    static let volume = "pvc-3f2a9c10-longhorn-dr"
    // First 64 hex digits of SHA-512("pvc-3f2a9c10-longhorn-dr"), computed outside Swift (Python hashlib).
    static let volumeHash = "4f5e4260d73758e8a2e2a272ccb51523e8d3b5fa550815a59e0239886c485382"

    /// The same digest through swift-crypto directly, independent of the module's hex code.
    static func independentChecksum(_ bytes: [UInt8]) -> String {
        SHA512.hash(data: bytes).map { String(format: "%02x", $0) }.joined().prefix(64).description
    }

    @Test("volume keys use the first 64 hex digits of SHA-512 of the name, two levels deep")
    func volumeKeys() {
        #expect(Self.independentChecksum(Array(Self.volume.utf8)) == Self.volumeHash)
        #expect(BackupstoreLayout.checksum(ofName: Self.volume) == Self.volumeHash)
        let layout = BackupstoreLayout()
        let directory = "backupstore/volumes/4f/5e/\(Self.volume)/"
        #expect(layout.volumeDirectory(Self.volume) == directory)
        #expect(layout.volumeConfigKey(Self.volume) == directory + "volume.cfg")
        #expect(layout.backupConfigKey(volume: Self.volume, backup: "backup-1a2b") == directory + "backups/backup_backup-1a2b.cfg")
    }

    @Test("block keys use the checksum of the uncompressed data")
    func blockKeys() {
        let block = Array("hello block".utf8)
        let checksum = "228f83741777df78da7e15d4afd86d3b457203e36fe8bf41d2f46725c8ccd638"
        #expect(BackupstoreLayout.checksum(of: block) == checksum)
        #expect(Self.independentChecksum(block) == checksum)
        #expect(BackupstoreLayout.isValidChecksum(checksum))
        #expect(!BackupstoreLayout.isValidChecksum("../../etc/passwd"))
        #expect(!BackupstoreLayout.isValidChecksum(checksum.uppercased()))
        let key = BackupstoreLayout().blockKey(volume: Self.volume, checksum: checksum)
        #expect(key == "backupstore/volumes/4f/5e/\(Self.volume)/blocks/22/8f/\(checksum).blk")
    }

    @Test(
        "prefix comes from the path part of the target URL",
        arguments: [
            ("s3://bucket@us-east-1/some/path/", "some/path/"),
            ("s3://bucket/some/path", "some/path/"),
            ("s3://bucket@us-east-1/", ""),
            ("s3://bucket", ""),
            ("nfs://server:/exports/longhorn", "exports/longhorn/"),
        ])
    func prefixes(url: String, prefix: String) {
        let layout = BackupstoreLayout(targetURL: url)
        #expect(layout.prefix == prefix)
        #expect(layout.volumeConfigKey("v").hasPrefix(prefix + "backupstore/volumes/"))
    }

    @Test("names from keys; invalid names rejected")
    func namesFromKeys() {
        let layout = BackupstoreLayout(prefix: "p")
        let key = layout.backupConfigKey(volume: "vol", backup: "backup-x")
        #expect(BackupstoreLayout.backupName(fromConfigKey: key) == "backup-x")
        #expect(BackupstoreLayout.backupName(fromConfigKey: "a/b/volume.cfg") == nil)
        #expect(layout.volumeName(fromConfigKey: layout.volumeConfigKey("vol")) == "vol")
        for bad in ["", "a/b", "..", "."] {
            let error = #expect(throws: BackupstoreError.self) { try BackupstoreLayout.validateName(bad, kind: "volume") }
            #expect(error?.code == .invalidArgument)
        }
    }
}
