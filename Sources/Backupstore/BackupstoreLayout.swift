import Crypto
import Foundation

/// Where Longhorn keeps each object in a backup store. Pure key arithmetic: no I/O.
///
/// ```
/// <prefix>backupstore/volumes/<h[0:2]>/<h[2:4]>/<volume>/volume.cfg
/// <prefix>backupstore/volumes/<h[0:2]>/<h[2:4]>/<volume>/backups/backup_<name>.cfg
/// <prefix>backupstore/volumes/<h[0:2]>/<h[2:4]>/<volume>/blocks/<c[0:2]>/<c[2:4]>/<c>.blk
/// ```
/// `h` is the first 64 hex digits of SHA-512(volume name), `c` the same of the uncompressed block.
public struct BackupstoreLayout: Sendable, Hashable {
    /// The fixed base directory under the target path (Longhorn's `backupstoreBase`).
    public static let base = "backupstore"
    /// Longhorn keeps only this many hex digits of a SHA-512 (`PreservedChecksumLength`).
    public static let checksumLength = 64
    static let backupConfigPrefix = "backup_"
    static let configSuffix = ".cfg"
    static let blockSuffix = ".blk"

    /// The path part of the backup target URL, normalized to "" or "some/path/" (no leading slash).
    public let prefix: String

    /// - Parameter prefix: the path part of the target URL, e.g. "some/path" for `s3://bucket@region/some/path/`.
    public init(prefix: String = "") {
        let trimmed = prefix.split(separator: "/", omittingEmptySubsequences: true).joined(separator: "/")
        self.prefix = trimmed.isEmpty ? "" : trimmed + "/"
    }

    /// Takes the prefix from a backup target URL such as `s3://bucket@us-east-1/some/path/`.
    public init(targetURL: String) {
        guard let schemeEnd = targetURL.range(of: "://") else {
            self.init(prefix: targetURL)
            return
        }
        let afterScheme = targetURL[schemeEnd.upperBound...]
        // The first path segment after the scheme is the bucket (or host); the rest is the prefix.
        guard let slash = afterScheme.firstIndex(of: "/") else {
            self.init(prefix: "")
            return
        }
        self.init(prefix: String(afterScheme[afterScheme.index(after: slash)...]))
    }

    // MARK: - Checksums

    /// The first 64 hex digits of SHA-512 of `name`'s UTF-8 bytes (Longhorn's `util.GetChecksum`).
    public static func checksum(ofName name: String) -> String {
        checksum(of: Array(name.utf8))
    }

    /// The first 64 hex digits of SHA-512 of `data`: a block's name in the store.
    public static func checksum(of data: some DataProtocol, engine: SHA512Engine = .preferred) -> String {
        let digest =
            data.withContiguousStorageIfAvailable { engine.digest(UnsafeRawBufferPointer($0)) }
            ?? Array(data).withUnsafeBytes { engine.digest($0) }
        var hex = ""
        hex.reserveCapacity(checksumLength)
        for byte in digest.prefix(checksumLength / 2) {
            hex.append(hexDigits[Int(byte >> 4)])
            hex.append(hexDigits[Int(byte & 0x0F)])
        }
        return hex
    }

    private static let hexDigits: [Character] = Array("0123456789abcdef")

    /// Whether `text` looks like a block checksum: exactly 64 lowercase hex digits.
    public static func isValidChecksum(_ text: String) -> Bool {
        text.utf8.count == checksumLength
            && text.utf8.allSatisfy { ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x61 && $0 <= 0x66) }
    }

    /// Rejects names that would escape their directory or are empty (volume and backup names become key parts).
    ///
    /// - Throws: `.invalidArgument` naming `kind` and the bad value.
    public static func validateName(_ name: String, kind: String) throws(BackupstoreError) {
        guard !name.isEmpty, !name.contains("/"), name != ".", name != "..", !name.contains("\0") else {
            throw BackupstoreError(
                .invalidArgument, subject: "\(kind) name \"\(name)\"",
                detail: "not a valid \(kind) name: it must be non-empty and contain no \"/\"",
                hint: "use the \(kind) name as Longhorn shows it")
        }
    }

    // MARK: - Keys

    /// `<prefix>backupstore/volumes/`: the parent of every volume's directory.
    public var volumesRoot: String { "\(prefix)\(Self.base)/volumes/" }

    /// The directory of one volume, ending in "/".
    public func volumeDirectory(_ volume: String) -> String {
        let hash = Self.checksum(ofName: volume)
        let chars = Array(hash)
        return "\(volumesRoot)\(String(chars[0..<2]))/\(String(chars[2..<4]))/\(volume)/"
    }

    public func volumeConfigKey(_ volume: String) -> String {
        volumeDirectory(volume) + "volume.cfg"
    }

    /// The directory that holds the backup cfgs of a volume, ending in "/".
    public func backupsDirectory(_ volume: String) -> String {
        volumeDirectory(volume) + "backups/"
    }

    public func backupConfigKey(volume: String, backup: String) -> String {
        backupsDirectory(volume) + Self.backupConfigPrefix + backup + Self.configSuffix
    }

    /// The directory that holds the blocks of a volume, ending in "/".
    public func blocksDirectory(_ volume: String) -> String {
        volumeDirectory(volume) + "blocks/"
    }

    public func blockKey(volume: String, checksum: String) -> String {
        let chars = Array(checksum)
        guard chars.count >= 4 else { return blocksDirectory(volume) + checksum + Self.blockSuffix }
        let level1 = String(chars[0..<2])
        let level2 = String(chars[2..<4])
        return "\(blocksDirectory(volume))\(level1)/\(level2)/\(checksum)\(Self.blockSuffix)"
    }

    /// The backup name in a key like `.../backups/backup_<name>.cfg`, or nil for any other key.
    public static func backupName(fromConfigKey key: String) -> String? {
        guard let fileName = key.split(separator: "/").last else { return nil }
        guard fileName.hasPrefix(backupConfigPrefix), fileName.hasSuffix(configSuffix),
            fileName.count > backupConfigPrefix.count + configSuffix.count
        else { return nil }
        return String(fileName.dropFirst(backupConfigPrefix.count).dropLast(configSuffix.count))
    }

    /// The volume name in a key like `<volumesRoot>xx/yy/<volume>/volume.cfg`, or nil for any other key.
    public func volumeName(fromConfigKey key: String) -> String? {
        guard key.hasPrefix(volumesRoot), key.hasSuffix("/volume.cfg") else { return nil }
        let parts = key.dropFirst(volumesRoot.count).split(separator: "/")
        guard parts.count == 4 else { return nil }
        return String(parts[2])
    }
}
