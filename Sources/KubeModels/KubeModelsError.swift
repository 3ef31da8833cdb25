import Foundation

/// The one error type of `KubeModels`: selector parse failures, patch failures and apply conflicts.
///
/// `message` is the text a real kube-apiserver puts in its `Status.message` for the same failure, so
/// the simulator can pass it straight to kubectl; `description` adds the subject (selector, patch
/// operation) and position for people reading logs.
public struct KubeModelsError: Error, Sendable, Hashable, CustomStringConvertible {
    /// Stable, matchable failure kinds.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Storage: String, Hashable, Sendable {
            case labelSelectorSyntax, fieldSelectorSyntax, fieldLabelNotSupported
            case jsonPatchMalformed, jsonPatchFailed, jsonPatchTestFailed
            case patchMalformed, patchNotMergeable
            case applyConflict, applyMalformed
            case statusMalformed
        }
        private let storage: Storage
        private init(_ storage: Storage) { self.storage = storage }

        /// A label selector string (or structured selector) that does not parse or validate.
        public static let labelSelectorSyntax = Code(.labelSelectorSyntax)
        /// A field selector string that does not parse.
        public static let fieldSelectorSyntax = Code(.fieldSelectorSyntax)
        /// A field selector naming a field the kind does not index.
        public static let fieldLabelNotSupported = Code(.fieldLabelNotSupported)
        /// A JSON patch document that is not a list of well-formed operations.
        public static let jsonPatchMalformed = Code(.jsonPatchMalformed)
        /// A JSON patch operation that could not be applied (missing path, bad index, ...).
        public static let jsonPatchFailed = Code(.jsonPatchFailed)
        /// A JSON patch `test` operation whose value did not match.
        public static let jsonPatchTestFailed = Code(.jsonPatchTestFailed)
        /// A strategic merge patch with a bad directive or shape (the server answers 400).
        public static let patchMalformed = Code(.patchMalformed)
        /// A strategic merge patch the server cannot merge (lists of lists, missing merge key).
        public static let patchNotMergeable = Code(.patchNotMergeable)
        /// Server-side apply found fields owned by other managers with different values (409).
        public static let applyConflict = Code(.applyConflict)
        /// A server-side apply body or managedFields entry that cannot be interpreted.
        public static let applyMalformed = Code(.applyMalformed)
        /// JSON that does not have the shape of a `Status` object.
        public static let statusMalformed = Code(.statusMalformed)

        public var description: String { storage.rawValue }
    }

    public let code: Code
    /// What the failure is about: the selector text, `json patch operation 2 (remove /a)`, ...
    public let subject: String?
    /// The server-format message, e.g. `field label not supported: spec.bogus`.
    public let message: String
    /// The next step for whoever reads the error, when there is one.
    public let hint: String?
    /// Zero-based character offset in the selector, when the failure is a parse error.
    public let position: Int?
    /// Zero-based index of the failing JSON patch operation.
    public let operationIndex: Int?
    /// Per-field causes (server-side apply conflicts list one per contested field).
    public let causes: [KubeStatus.Cause]

    public init(
        code: Code, subject: String? = nil, message: String, hint: String? = nil,
        position: Int? = nil, operationIndex: Int? = nil, causes: [KubeStatus.Cause] = []
    ) {
        self.causes = causes
        self.code = code
        self.subject = subject
        self.message = message
        self.hint = hint
        self.position = position
        self.operationIndex = operationIndex
    }

    public var description: String {
        var text = ""
        if let subject { text += "\(subject): " }
        text += message
        if let position { text += " (at position \(position))" }
        if let hint { text += "\n  hint: \(hint)" }
        return text
    }

    /// The `Status` a real apiserver answers with for this failure.
    ///
    /// Selector and malformed-patch errors are 400 BadRequest; a JSON patch that fails to apply
    /// (including a failed `test`) and an unmergeable strategic patch are 422 with the apiserver's
    /// generic message, because the apiserver drops the library's own text in that case.
    public var status: KubeStatus {
        switch code {
        case .jsonPatchFailed, .jsonPatchTestFailed, .patchNotMergeable:
            return .genericUnprocessable()
        case .applyConflict:
            return .applyConflict(message: message, causes: causes)
        default:
            return .badRequest(message)
        }
    }
}
