import Foundation
import Testing

@testable import Backupstore

@Suite("volume.cfg and backup cfg")
struct ConfigTests {
    // Written by hand to match Longhorn's json.Marshal output (longhorn-facts section 7): `,string` fields
    // double-encoded, Size/BlockCount as strings, map keys sorted, `<`/`>`/`&` escaped.
    static let volumeJSON = #"""
        {"Name":"pvc-1","Size":"2147483648","Labels":{"KubernetesStatus":"{\"pvName\":\"pvc-1\"}","longhorn.io/x":"a\u003cb"},"CreatedTime":"2026-01-02T03:04:05Z","LastBackupName":"backup-abc","LastBackupAt":"2026-01-02T03:04:00Z","BlockCount":"12","BackingImageName":"\"\"","BackingImageChecksum":"\"\"","CompressionMethod":"\"lz4\"","StorageClassName":"\"longhorn\"","DataEngine":"\"v1\""}
        """#

    static let checksumA = String(repeating: "ab", count: 32)
    static let checksumB = String(repeating: "0f", count: 32)

    static var backupJSON: String {
        #"{"Name":"backup-abc","VolumeName":"pvc-1","SnapshotName":"snap-1","SnapshotCreatedAt":"2026-01-02T03:04:00Z","CreatedTime":"2026-01-02T03:05:00Z","Size":"33554432","Labels":{"longhorn.io/volume-access-mode":"rwo"},"Parameters":{"backup-block-size":"16777216"},"IsIncremental":true,"CompressionMethod":"lz4","NewlyUploadedDataSize":"1234","ReUploadedDataSize":"0","ProcessingBlocks":null,"Blocks":[{"Offset":0,"BlockChecksum":""#
            + checksumA + #""},{"Offset":16777216,"BlockChecksum":""# + checksumB
            + #""}],"SingleFile":{"FilePath":""}}"#
    }

    static let inProgressJSON = #"""
        {"Name":"backup-def","VolumeName":"pvc-1","SnapshotName":"","SnapshotCreatedAt":"","CreatedTime":"","Size":"0","Labels":null,"Parameters":null,"IsIncremental":false,"CompressionMethod":"lz4","NewlyUploadedDataSize":"0","ReUploadedDataSize":"0","ProcessingBlocks":null,"SingleFile":{"FilePath":""}}
        """#

    @Test("volume.cfg: double-encoded fields parse, and we write the same bytes back")
    func volumeConfig() throws {
        let volume = try VolumeConfig.parse(Data(Self.volumeJSON.utf8), key: "k")
        #expect(volume.name == "pvc-1")
        #expect(volume.size == 2_147_483_648)
        #expect(volume.blockCount == 12)
        #expect(volume.compressionMethod == .lz4)
        #expect(volume.storageClassName == "longhorn")
        #expect(volume.dataEngine == "v1")
        #expect(volume.backingImageName == "")
        #expect(volume.labels?["KubernetesStatus"] == #"{"pvName":"pvc-1"}"#)
        #expect(volume.labels?["longhorn.io/x"] == "a<b")
        #expect(String(decoding: volume.backupstoreJSON(), as: UTF8.self) == Self.volumeJSON)
    }

    @Test(
        "volume.cfg compression method: plain, double-encoded, empty and missing",
        arguments: [
            (#""CompressionMethod":"\"lz4\"""#, CompressionMethod.lz4),
            (#""CompressionMethod":"none""#, .none),
            (#""CompressionMethod":"gzip""#, .gzip),
            (#""CompressionMethod":"\"\"""#, .gzip),
            (#""CompressionMethod":"""#, .gzip),
            (#""CompressionMethod":null"#, .gzip),
            (#""X":1"#, .gzip),
        ])
    func volumeCompression(field: String, expected: CompressionMethod) throws {
        let json = #"{"Name":"v","Size":"4194304","# + field + #","DataEngine":"","StorageClassName":"longhorn"}"#
        let volume = try VolumeConfig.parse(Data(json.utf8), key: "k")
        #expect(volume.compressionMethod == expected)
        #expect(volume.dataEngine == "v1")
        #expect(volume.storageClassName == "longhorn")
    }

    @Test("unknown compression method and broken JSON are typed errors naming the key")
    func badVolume() {
        let unknown = #expect(throws: BackupstoreError.self) {
            try VolumeConfig.parse(Data(#"{"Name":"v","CompressionMethod":"\"zstd\""}"#.utf8), key: "the/key")
        }
        #expect(unknown?.code == .unsupported)
        #expect(unknown?.key == "the/key")
        let broken = #expect(throws: BackupstoreError.self) {
            try VolumeConfig.parse(Data(#"{"Name":"v","Size":"12x"}"#.utf8), key: "the/key")
        }
        #expect(broken?.code == .invalidConfig)
        #expect(broken?.description.contains("the/key") == true)
    }

    @Test("backup cfg parses and round-trips byte for byte")
    func backupConfig() throws {
        let backup = try BackupConfig.parse(Data(Self.backupJSON.utf8), key: "k")
        #expect(backup.name == "backup-abc")
        #expect(backup.size == 33_554_432)
        #expect(backup.isIncremental)
        #expect(!backup.isInProgress)
        #expect(backup.compressionMethod == .lz4)
        #expect(try backup.blockSize() == 16 * 1024 * 1024)
        #expect(
            backup.blocks == [
                BlockMapping(offset: 0, blockChecksum: Self.checksumA),
                BlockMapping(offset: 16_777_216, blockChecksum: Self.checksumB),
            ])
        #expect(String(decoding: backup.backupstoreJSON(), as: UTF8.self) == Self.backupJSON)
    }

    @Test("a first (full) backup cfg keeps Longhorn's ProcessingBlocks {} on rewrite")
    func fullBackupProcessingBlocks() throws {
        let full = Self.backupJSON
            .replacingOccurrences(of: #""IsIncremental":true"#, with: #""IsIncremental":false"#)
            .replacingOccurrences(of: #""ProcessingBlocks":null"#, with: #""ProcessingBlocks":{}"#)
        let backup = try BackupConfig.parse(Data(full.utf8), key: "k")
        #expect(String(decoding: backup.backupstoreJSON(), as: UTF8.self) == full)
        let again = try JSONDecoder().decode(BackupConfig.self, from: JSONEncoder().encode(backup))
        #expect(again == backup)
    }

    @Test("in-progress backup cfg: empty CreatedTime, no Blocks key, default block size")
    func inProgress() throws {
        let backup = try BackupConfig.parse(Data(Self.inProgressJSON.utf8), key: "k")
        #expect(backup.isInProgress)
        #expect(backup.blocks.isEmpty)
        #expect(try backup.blockSize() == 2 * 1024 * 1024)
        #expect(String(decoding: backup.backupstoreJSON(), as: UTF8.self) == Self.inProgressJSON)
    }

    @Test(
        "backup-block-size parameter forms",
        arguments: [
            ("2097152", 2 * 1024 * 1024), ("16777216", 16 * 1024 * 1024), ("16Mi", 16 * 1024 * 1024),
            ("2Mi", 2 * 1024 * 1024), ("", 2 * 1024 * 1024), ("0", 2 * 1024 * 1024),
        ] as [(String, Int64)])
    func blockSizeParameter(value: String, expected: Int64) throws {
        let backup = BackupConfig(
            name: "b", volumeName: "v", parameters: [BackupConfig.blockSizeParameter: value], compressionMethod: .lz4)
        #expect(try backup.blockSize() == expected)
    }

    @Test("bad block size parameter; empty backup CompressionMethod means gzip; legacy BlockSize key")
    func backupEdgeCases() throws {
        let bad = BackupConfig(name: "b", volumeName: "v", parameters: ["backup-block-size": "big"], compressionMethod: .lz4)
        let error = #expect(throws: BackupstoreError.self) { try bad.blockSize() }
        #expect(error?.code == .invalidConfig)
        let legacy = try BackupConfig.parse(
            Data(#"{"Name":"b","VolumeName":"v","CreatedTime":"x","CompressionMethod":"","BlockSize":"2097152"}"#.utf8), key: "k")
        #expect(legacy.compressionMethod == .gzip)
        #expect(legacy.legacyBlockSize == 2_097_152)
        #expect(try legacy.blockSize() == 2_097_152)
    }

    @Test("Codable conformance round-trips through JSONEncoder")
    func codable() throws {
        let backup = try BackupConfig.parse(Data(Self.backupJSON.utf8), key: "k")
        let again = try JSONDecoder().decode(BackupConfig.self, from: JSONEncoder().encode(backup))
        #expect(again == backup)
        let volume = try VolumeConfig.parse(Data(Self.volumeJSON.utf8), key: "k")
        let volumeAgain = try JSONDecoder().decode(VolumeConfig.self, from: JSONEncoder().encode(volume))
        #expect(volumeAgain == volume)
    }
}
