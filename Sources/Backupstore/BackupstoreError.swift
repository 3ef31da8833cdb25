import Foundation

/// The one error type of the Backupstore module.
///
/// Every failure says what failed (`code`), on which object (`subject`: a key, a volume/backup pair),
/// why (`detail`), and, when the operator can act, what to do next (`hint`). Block-level failures also
/// carry the object key and the block offset as fields, so reports can name them without parsing text.
public struct BackupstoreError: Error, Sendable, CustomStringConvertible {
    /// A stable, matchable failure kind.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Storage: String, Sendable {
            case notFound
            case invalidArgument
            case invalidConfig
            case io
            case malformedLZ4
            case truncatedInput
            case checksumMismatch
            case outputLimitExceeded
            case unsupported
            case compressionFailed
            case decompressionFailed
            case backupInProgress
            case blockMissing
            case blockTruncated
            case blockCorrupt
            case blockChecksumMismatch
        }

        private let storage: Storage
        private init(_ storage: Storage) { self.storage = storage }

        public var description: String { storage.rawValue }

        /// An object or file that should exist does not.
        public static let notFound = Code(.notFound)
        /// A caller passed a value this module cannot work with (bad name, block size, range).
        public static let invalidArgument = Code(.invalidArgument)
        /// A `volume.cfg` or backup cfg could not be parsed or is inconsistent.
        public static let invalidConfig = Code(.invalidConfig)
        /// Reading or writing a local file or store object failed.
        public static let io = Code(.io)
        /// LZ4 frame data breaks the frame or block format.
        public static let malformedLZ4 = Code(.malformedLZ4)
        /// Compressed input ended before the format said it would.
        public static let truncatedInput = Code(.truncatedInput)
        /// A header, block or content checksum inside compressed data does not match.
        public static let checksumMismatch = Code(.checksumMismatch)
        /// Decompressed output would exceed the caller's limit (a decompression bomb or a wrong block size).
        public static let outputLimitExceeded = Code(.outputLimitExceeded)
        /// A format feature or compression method this module does not handle.
        public static let unsupported = Code(.unsupported)
        /// Compressing a block failed.
        public static let compressionFailed = Code(.compressionFailed)
        /// Decompressing data failed for a reason other than the ones above.
        public static let decompressionFailed = Code(.decompressionFailed)
        /// The backup cfg has no `CreatedTime`: Longhorn is still writing this backup.
        public static let backupInProgress = Code(.backupInProgress)
        /// A block listed by a backup cfg is not in the store.
        public static let blockMissing = Code(.blockMissing)
        /// A block object is shorter than its data requires.
        public static let blockTruncated = Code(.blockTruncated)
        /// A block object could not be decompressed or has the wrong size.
        public static let blockCorrupt = Code(.blockCorrupt)
        /// A block decompressed, but its SHA-512 does not match its name.
        public static let blockChecksumMismatch = Code(.blockChecksumMismatch)
    }

    public let code: Code
    /// The object concerned: a store key, a file path, "volume V backup B".
    public let subject: String?
    /// What happened, including any condensed lower-level message.
    public let detail: String
    /// The next step for the operator, when there is one.
    public let hint: String?
    /// The store key involved, when there is one (block failures always set it).
    public let key: String?
    /// The byte offset of the block in the volume, for block failures.
    public let blockOffset: Int64?
    public let underlying: (any Error)?

    public init(
        _ code: Code,
        subject: String? = nil,
        detail: String,
        hint: String? = nil,
        key: String? = nil,
        blockOffset: Int64? = nil,
        underlying: (any Error)? = nil
    ) {
        self.code = code
        self.subject = subject
        self.detail = detail
        self.hint = hint
        self.key = key
        self.blockOffset = blockOffset
        self.underlying = underlying
    }

    public var description: String {
        var text = "error: \(code)"
        if let subject { text += ": \(subject)" }
        text += ": \(detail)"
        if let underlying {
            // A nested module error shows its own code and detail only, not a second "error:" line.
            if let inner = underlying as? BackupstoreError {
                text += " (caused by \(inner.code): \(inner.detail))"
            } else {
                text += " (caused by: \(underlying))"
            }
        }
        if let hint { text += "\n  hint: \(hint)" }
        return text
    }
}

extension BackupstoreError {
    /// A copy with a different subject/key/offset, keeping the code and reasons (used to add context on the way up).
    func with(subject: String? = nil, key: String? = nil, blockOffset: Int64? = nil) -> BackupstoreError {
        BackupstoreError(
            code,
            subject: subject ?? self.subject,
            detail: detail,
            hint: hint,
            key: key ?? self.key,
            blockOffset: blockOffset ?? self.blockOffset,
            underlying: underlying
        )
    }
}
