import Foundation

/// JSON merge patch (RFC 7386), the `application/merge-patch+json` PATCH type.
///
/// Objects merge recursively, `null` deletes a key, and everything else (arrays included)
/// replaces the target value whole. That last rule is why a merge patch of `containers`
/// replaces the list where a strategic merge patch would add to it.
public enum MergePatch {
    /// Applies `patch` to `target`. Never fails: every JSON value is a valid merge patch.
    public static func apply(_ patch: JSONValue, to target: JSONValue) -> JSONValue {
        guard case .object(let patchFields) = patch else { return patch }
        var result = target.objectValue ?? [:]
        for (key, value) in patchFields {
            if value.isNull {
                result.removeValue(forKey: key)
            } else {
                result[key] = apply(value, to: result[key] ?? .null)
            }
        }
        return .object(result)
    }

    /// A merge patch that turns `original` into `modified` (nulls for removed keys, whole values
    /// for changed arrays and scalars). Useful to record what an update changed.
    public static func diff(from original: JSONValue, to modified: JSONValue) -> JSONValue {
        guard case .object(let old) = original, case .object(let new) = modified else { return modified }
        var patch: [String: JSONValue] = [:]
        for key in old.keys where new[key] == nil {
            patch[key] = .null
        }
        for (key, newValue) in new {
            guard let oldValue = old[key] else {
                patch[key] = newValue
                continue
            }
            if oldValue == newValue { continue }
            if case .object = oldValue, case .object = newValue {
                patch[key] = diff(from: oldValue, to: newValue)
            } else {
                patch[key] = newValue
            }
        }
        return .object(patch)
    }
}
