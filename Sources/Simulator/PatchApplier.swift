import KubeModels

/// The four PATCH content types the apiserver accepts.
enum PatchKind: Equatable {
    case json, merge, strategic, apply

    init?(contentType: String) {
        switch contentType {
        case "application/json-patch+json": self = .json
        case "application/merge-patch+json": self = .merge
        case "application/strategic-merge-patch+json": self = .strategic
        case "application/apply-patch+yaml", "application/apply-patch+json": self = .apply
        default: return nil
        }
    }
}

/// Applies a JSON, merge or strategic merge patch, turning patch errors into the server's answers.
enum PatchApplier {
    static func apply(_ kind: PatchKind, patch: JSONValue, to object: JSONValue, type: ResourceType) throws(APIError) -> JSONValue {
        do {
            switch kind {
            case .json:
                return try JSONPatch(json: patch).apply(to: object)
            case .merge:
                return MergePatch.apply(patch, to: object)
            case .strategic:
                return try StrategicMergePatch.apply(patch, to: object, schema: StrategicMergeSchema.builtIn(group: type.group, kind: type.kind))
            case .apply:
                throw APIError.badRequest("server-side apply goes through ServerSideApply")
            }
        } catch let error as APIError {
            throw error
        } catch let error as KubeModelsError {
            throw APIError(error.status)
        } catch {
            throw .badRequest("\(error)")
        }
    }
}
