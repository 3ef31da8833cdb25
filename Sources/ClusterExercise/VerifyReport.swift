import AWS
import Backupstore
import DRCore
import Foundation

/// What `backup verify` found, rendered as text for people or JSON for scripts and the exercise.
public struct VerifyReport: Sendable {
    public var target: String
    public var volume: String
    public var backup: String
    public var createdTime: String
    public var compression: String
    public var result: BackupReader.Result
    public var verifySeconds: Double
    public var credentialsSource: String
    public var file: Ext4FileExtractor.Extracted?

    public init(
        target: String, volume: String, backup: String, createdTime: String, compression: String, result: BackupReader.Result,
        verifySeconds: Double, credentialsSource: String, file: Ext4FileExtractor.Extracted?
    ) {
        self.target = target
        self.volume = volume
        self.backup = backup
        self.createdTime = createdTime
        self.compression = compression
        self.result = result
        self.verifySeconds = verifySeconds
        self.credentialsSource = credentialsSource
        self.file = file
    }

    var throughputMiBps: Double {
        verifySeconds > 0 ? Double(result.bytesVerified) / 1_048_576 / verifySeconds : 0
    }

    public func text(elapsed: Duration) -> String {
        var lines = [
            "PASS backup \(backup) of volume \(volume) in \(target)",
            "  created:     \(createdTime)",
            "  blocks:      \(result.blocksVerified) verified (SHA-512), block size \(ByteText.size(Int64(result.blockSize))), \(compression)",
            "  data:        \(ByteText.size(result.bytesVerified)) checked, \(ByteText.size(result.compressedBytes)) fetched",
            result.outputSize.map { "  image:       \(ByteText.size($0)) rebuilt for --file (sparse, removed afterwards)" }
                ?? "  image:       none written (only --file needs one)",
            String(format: "  time:        %.1f s (%.1f MiB/s verified)", elapsed.seconds, throughputMiBps),
            "  credentials: \(credentialsSource)",
        ]
        if result.blocksInOtherMethod > 0 {
            lines.append("  note:        \(result.blocksInOtherMethod) blocks are stored with the other compression method (Longhorn restores these too)")
        }
        if let file {
            lines.append("  file:        \(file.path) (\(file.size) bytes)")
            lines.append("  sha256:      \(file.sha256)")
        }
        return lines.joined(separator: "\n")
    }

    public func json(elapsed: Duration) -> String {
        var object: [String: Any] = [
            "result": "pass",
            "target": target,
            "volume": volume,
            "backup": backup,
            "createdTime": createdTime,
            "compression": compression,
            "blockSize": result.blockSize,
            "blocksVerified": result.blocksVerified,
            "bytesVerified": Int(result.bytesVerified),
            "bytesFetched": Int(result.compressedBytes),
            // null: no image was written (no --file).
            "imageSize": result.outputSize.map { Int($0) as Any } ?? NSNull(),
            "blocksInOtherCompression": result.blocksInOtherMethod,
            "seconds": (elapsed.seconds * 1000).rounded() / 1000,
            "throughputMiBps": (throughputMiBps * 10).rounded() / 10,
            "credentialsSource": credentialsSource,
        ]
        if let file {
            object["file"] = ["path": file.path, "size": Int(file.size), "sha256": file.sha256] as [String: Any]
        }
        return Self.encode(object)
    }

    /// A failure as JSON: `reason` is a stable code, `message` the sentence; block failures name
    /// the key and offset as fields.
    public static func failureJSON(_ failure: DRError, error: any Error, target: String, volume: String, backup: String?) -> String {
        var object: [String: Any] = [
            "result": "fail",
            "target": target,
            "volume": volume,
            "exitStatus": Int(failure.status.rawValue),
            "message": "\(failure.subject): \(failure.detail)",
        ]
        if let backup { object["backup"] = backup }
        if let hint = failure.hint { object["hint"] = hint }
        if let store = error as? BackupstoreError {
            object["reason"] = FailureMapping.awsCause(store).map { $0.code.rawValue } ?? store.code.description
            if let key = store.key { object["key"] = key }
            if let offset = store.blockOffset { object["offset"] = Int(offset) }
        } else if let aws = error as? AWSError {
            object["reason"] = aws.code.rawValue
        } else {
            object["reason"] = "\(failure.status)"
        }
        return encode(object)
    }

    static func encode(_ object: [String: Any]) -> String {
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])) ?? Data("{}".utf8)
        return String(decoding: data, as: UTF8.self)
    }
}
