import Foundation

/// Strategic merge patch, the `application/strategic-merge-patch+json` PATCH type that plain
/// `kubectl patch` and client-side `kubectl apply` send.
///
/// Like a JSON merge patch, except that lists tagged in a `StrategicMergeSchema` merge element by
/// element (on a merge key, or as a set for primitives) and a patch may carry directives:
/// `$patch: replace|delete|merge`, `$retainKeys`, `$deleteFromPrimitiveList/<field>` and
/// `$setElementOrder/<field>`. Semantics and ordering follow
/// `k8s.io/apimachinery/pkg/util/strategicpatch` (server side, `StrategicMergeMapPatch`), with
/// these deliberate differences: `$patch: merge` in a map is accepted as the default (the
/// apiserver rejects it), directives inside values that are new to the object are processed rather
/// than stored verbatim, and `$deleteFromPrimitiveList` on a missing list is a no-op.
public enum StrategicMergePatch {
    static let directive = "$patch"
    static let retainKeysDirective = "$retainKeys"
    static let deletePrefix = "$deleteFromPrimitiveList/"
    static let orderPrefix = "$setElementOrder/"

    /// Applies `patch` to `original`.
    /// - Parameters:
    ///   - patch: the patch document; must be a JSON object.
    ///   - original: the live object (a non-object is treated as `{}`).
    ///   - schema: patch metadata for the kind (see `StrategicMergeSchema.builtIn(group:kind:)`);
    ///     nil treats every list as replace-only.
    /// - Throws: `KubeModelsError`: `.patchMalformed` (400) for a bad directive or directive
    ///   shape, `.patchNotMergeable` (422 or 500 on a real server) for lists of lists, mixed
    ///   element types or list items without the merge key.
    public static func apply(_ patch: JSONValue, to original: JSONValue, schema: StrategicMergeSchema?)
        throws(KubeModelsError) -> JSONValue
    {
        guard case .object(let patchFields) = patch else {
            throw malformed("a strategic merge patch must be a JSON object, got \(patch.jsonText)")
        }
        return try mergeMap(original.objectValue ?? [:], patchFields, schema: schema)
    }

    // MARK: - Maps

    static func mergeMap(_ originalFields: [String: JSONValue], _ patchFields: [String: JSONValue], schema: StrategicMergeSchema?)
        throws(KubeModelsError) -> JSONValue
    {
        var original = originalFields
        var patch = patchFields
        if let directiveValue = patch[directive] {
            switch directiveValue.stringValue {
            case "replace":
                patch.removeValue(forKey: directive)
                return try mergeMap([:], patch, schema: schema)
            case "delete":
                return .object([:])
            case "merge":
                patch.removeValue(forKey: directive)
            default:
                throw malformed("unknown patch type: \(plain(directiveValue)) in map: \(JSONValue.object(patch).jsonText)")
            }
        }

        try applyRetainKeys(&original, &patch)

        // `$setElementOrder/<field>` first: it takes the field's list out of the patch, merges it and
        // puts the result in the order the client asked for.
        for key in patch.keys.sorted() where key.hasPrefix(orderPrefix) {
            guard let orderValue = patch.removeValue(forKey: key) else { continue }
            let fieldName = String(key.dropFirst(orderPrefix.count))
            guard !fieldName.isEmpty, let order = orderValue.arrayValue else {
                throw malformed("invalid patch format of setElementOrder list")
            }
            let field = schema?[fieldName]
            let mergeKey = field?.mergeKey
            let originalList = original[fieldName]?.arrayValue
            let patchList = patch.removeValue(forKey: fieldName)
            if let patchList, patchList.arrayValue == nil, !patchList.isNull {
                throw malformed("expected a list for \(fieldName) next to \(key), got \(patchList.jsonText)")
            }
            let patchItems = patchList?.arrayValue
            try validateOrder(patch: patchItems ?? [], order: order, mergeKey: mergeKey, field: fieldName)

            let merged: [JSONValue]
            switch (originalList, patchItems) {
            case (let list?, nil): merged = list
            case (nil, let items?): merged = try mergeList([], items, field: field)
            case (let list?, let items?): merged = try mergeList(list, items, field: field)
            case (nil, nil): continue
            }
            let (inOrder, serverOnly) = try partition(merged, by: order, mergeKey: mergeKey)
            let sortedPatchItems = try sortByOrder(inOrder, order: order, mergeKey: mergeKey)
            let sortedServerOnly = try sortByOrder(serverOnly, order: originalList ?? [], mergeKey: mergeKey)
            original[fieldName] = .array(
                try interleave(sortedServerOnly, sortedPatchItems, serverOrder: originalList ?? [], mergeKey: mergeKey))
        }

        for key in patch.keys.sorted() {
            guard let patchValue = patch[key] else { continue }
            if key.hasPrefix(deletePrefix) {
                let fieldName = String(key.dropFirst(deletePrefix.count))
                guard !fieldName.isEmpty, let toDelete = patchValue.arrayValue else {
                    throw malformed("invalid patch format of primitive list")
                }
                if let current = original[fieldName]?.arrayValue {
                    original[fieldName] = .array(current.filter { !toDelete.contains($0) })
                }
                continue
            }
            if patchValue.isNull {
                original.removeValue(forKey: key)
                continue
            }
            let field = schema?[key]
            switch (original[key], patchValue) {
            case (.object(let current)?, .object(let change)):
                original[key] = try mergeMap(current, change, schema: field?.schema)
            case (.array(let current)?, .array(let change)):
                original[key] = .array(try mergeList(current, change, field: field))
            default:
                original[key] = try fresh(patchValue, field: field)
            }
        }
        return .object(original)
    }

    /// A patch value for a key the object does not have yet (or has with another type): directives
    /// and nulls inside it are resolved against nothing.
    static func fresh(_ value: JSONValue, field: StrategicMergeSchema.Field?) throws(KubeModelsError) -> JSONValue {
        switch value {
        case .object(let fields): return try mergeMap([:], fields, schema: field?.schema)
        case .array(let items): return .array(try mergeList([], items, field: field))
        default: return value
        }
    }

    /// `$retainKeys`: drop every original key the list does not name; every key the patch sets
    /// must be in the list.
    static func applyRetainKeys(_ original: inout [String: JSONValue], _ patch: inout [String: JSONValue])
        throws(KubeModelsError)
    {
        guard let retainValue = patch.removeValue(forKey: retainKeysDirective) else { return }
        guard let retain = retainValue.arrayValue?.compactMap(\.stringValue),
            retain.count == retainValue.arrayValue?.count
        else {
            throw malformed("invalid patch format of retainKeys")
        }
        let keep = Set(retain)
        for (key, value) in patch
        where !value.isNull && !key.hasPrefix(deletePrefix) && !key.hasPrefix(orderPrefix) && key != directive {
            if !keep.contains(key) {
                throw malformed("invalid patch format of retainKeys")
            }
        }
        original = original.filter { keep.contains($0.key) }
    }

    // MARK: - Lists

    static func mergeList(_ original: [JSONValue], _ patch: [JSONValue], field: StrategicMergeSchema.Field?)
        throws(KubeModelsError) -> [JSONValue]
    {
        guard let field, field.mergesList else {
            // Untagged lists are replaced; object elements still lose directives and nulls.
            var out: [JSONValue] = []
            for item in patch {
                if case .object(let fields) = item {
                    out.append(try mergeMap([:], fields, schema: field?.schema))
                } else {
                    out.append(item)
                }
            }
            return out
        }
        if original.isEmpty && patch.isEmpty { return original }
        let elementsAreMaps = try elementKindIsMap(original + patch)

        if !elementsAreMaps {
            var merged: [JSONValue] = []
            for item in original + patch where !merged.contains(item) { merged.append(item) }
            let (inPatch, serverOnly) = try partition(merged, by: patch, mergeKey: nil)
            return try interleave(
                try sortByOrder(serverOnly, order: original, mergeKey: nil),
                try sortByOrder(inPatch, order: patch, mergeKey: nil),
                serverOrder: original, mergeKey: nil)
        }

        guard let mergeKey = field.mergeKey else {
            throw notMergeable("cannot merge lists without merge key for type map")
        }
        // Directive elements: `{$patch: delete, key: v}` removes matches; `{$patch: replace}` makes
        // the other patch elements the whole list.
        var base = original
        var plainPatch: [JSONValue] = []
        var replaceAll = false
        for item in patch {
            guard case .object(let fields) = item, let directiveValue = fields[directive] else {
                plainPatch.append(item)
                continue
            }
            switch directiveValue.stringValue {
            case "delete":
                guard let keyValue = fields[mergeKey] else {
                    throw notMergeable("map: \(item.jsonText) does not contain declared merge key: \(mergeKey)")
                }
                base.removeAll { $0[mergeKey] == keyValue }
            case "replace":
                replaceAll = true
            case "merge":
                throw malformed("merging lists cannot yet be specified in the patch")
            default:
                throw malformed("unknown patch type: \(plain(directiveValue)) in map: \(item.jsonText)")
            }
        }
        if replaceAll {
            var out: [JSONValue] = []
            for item in plainPatch {
                out.append(try fresh(item, field: StrategicMergeSchema.Field(schema: field.schema)))
            }
            return out
        }

        var merged = base
        for item in plainPatch {
            guard case .object(let fields) = item, let keyValue = fields[mergeKey] else {
                throw notMergeable("map: \(item.jsonText) does not contain declared merge key: \(mergeKey)")
            }
            if let index = merged.firstIndex(where: { $0[mergeKey] == keyValue }), case .object(let current) = merged[index] {
                merged[index] = try mergeMap(current, fields, schema: field.schema)
            } else {
                merged.append(try mergeMap([:], fields, schema: field.schema))
            }
        }
        let (inPatch, serverOnly) = try partition(merged, by: plainPatch, mergeKey: mergeKey)
        return try interleave(
            try sortByOrder(serverOnly, order: base, mergeKey: mergeKey),
            try sortByOrder(inPatch, order: plainPatch, mergeKey: mergeKey),
            serverOrder: base, mergeKey: mergeKey)
    }

    /// All elements must share one kind, and lists of lists are not supported.
    static func elementKindIsMap(_ items: [JSONValue]) throws(KubeModelsError) -> Bool {
        var sawMap = false
        var sawScalar = false
        for item in items {
            switch item {
            case .array: throw notMergeable("lists of lists are not supported")
            case .object: sawMap = true
            default: sawScalar = true
            }
        }
        if sawMap && sawScalar {
            throw notMergeable("list element types are not identical: \(JSONValue.array(items).jsonText)")
        }
        return sawMap
    }

    // MARK: - Ordering (server-side `normalizeElementOrder`)

    /// What identifies an element: its merge-key value for maps, itself for primitives.
    static func identity(_ item: JSONValue, mergeKey: String?) throws(KubeModelsError) -> JSONValue {
        guard let mergeKey else { return item }
        guard case .object(let fields) = item, let value = fields[mergeKey] else {
            throw notMergeable("map: \(item.jsonText) does not contain declared merge key: \(mergeKey)")
        }
        return value
    }

    static func position(of item: JSONValue, in list: [JSONValue], mergeKey: String?) -> Int? {
        let wanted: JSONValue?
        if let mergeKey { wanted = item[mergeKey] } else { wanted = item }
        guard let wanted else { return nil }
        return list.firstIndex { candidate in
            (mergeKey.map { candidate[$0] } ?? candidate) == wanted
        }
    }

    /// Splits `items` into those present in `list` (by identity) and the rest, keeping order.
    static func partition(_ items: [JSONValue], by list: [JSONValue], mergeKey: String?) throws(KubeModelsError)
        -> (present: [JSONValue], absent: [JSONValue])
    {
        var wanted: [JSONValue] = []
        for element in list {
            if mergeKey != nil, case .object(let fields) = element, fields[directive] != nil { continue }
            wanted.append(try identity(element, mergeKey: mergeKey))
        }
        var present: [JSONValue] = []
        var absent: [JSONValue] = []
        for item in items {
            if wanted.contains(try identity(item, mergeKey: mergeKey)) {
                present.append(item)
            } else {
                absent.append(item)
            }
        }
        return (present, absent)
    }

    /// Stable sort by position in `order`; items not in `order` keep their place after the others.
    static func sortByOrder(_ items: [JSONValue], order: [JSONValue], mergeKey: String?) throws(KubeModelsError)
        -> [JSONValue]
    {
        let keyed = items.enumerated().map { (offset: $0.offset, rank: position(of: $0.element, in: order, mergeKey: mergeKey), item: $0.element) }
        return keyed.sorted { a, b in
            switch (a.rank, b.rank) {
            case (let x?, let y?): return x != y ? x < y : a.offset < b.offset
            case (.some, .none): return true
            case (.none, .some): return false
            case (.none, .none): return a.offset < b.offset
            }
        }.map(\.item)
    }

    /// Merges server-only items (`left`) into patch items (`right`), keeping each list's relative
    /// order. A server-only item goes first only when both it and the next patch item were in the
    /// live list and it came earlier there; so items new to the list land before the remaining
    /// server-only ones, exactly as the apiserver orders them.
    static func interleave(_ left: [JSONValue], _ right: [JSONValue], serverOrder: [JSONValue], mergeKey: String?)
        throws(KubeModelsError) -> [JSONValue]
    {
        var out: [JSONValue] = []
        var i = 0
        var j = 0
        while i < left.count || j < right.count {
            if i >= left.count {
                out.append(right[j])
                j += 1
            } else if j >= right.count {
                out.append(left[i])
                i += 1
            } else if let li = position(of: left[i], in: serverOrder, mergeKey: mergeKey),
                let ri = position(of: right[j], in: serverOrder, mergeKey: mergeKey), li < ri
            {
                out.append(left[i])
                i += 1
            } else {
                out.append(right[j])
                j += 1
            }
        }
        return out
    }

    /// The patch list's non-directive items must appear in `$setElementOrder` in the same relative order.
    static func validateOrder(patch: [JSONValue], order: [JSONValue], mergeKey: String?, field: String)
        throws(KubeModelsError)
    {
        if patch.isEmpty || order.isEmpty { return }
        let items = patch.filter { item in
            guard mergeKey != nil, case .object(let fields) = item else { return true }
            return fields[directive] == nil
        }
        var p = 0
        var o = 0
        while p < items.count && o < order.count {
            if try identity(items[p], mergeKey: mergeKey) == identity(order[o], mergeKey: mergeKey) { p += 1 }
            o += 1
        }
        if p < items.count {
            throw malformed(
                "The order in patch list:\n\(JSONValue.array(patch).jsonText)\n doesn't match $setElementOrder list:\n\(JSONValue.array(order).jsonText)\n"
            )
        }
    }

    // MARK: - Errors

    static func plain(_ value: JSONValue) -> String { value.stringValue ?? value.jsonText }

    static func malformed(_ message: String) -> KubeModelsError {
        KubeModelsError(code: .patchMalformed, subject: "strategic merge patch", message: message)
    }

    static func notMergeable(_ message: String) -> KubeModelsError {
        KubeModelsError(code: .patchNotMergeable, subject: "strategic merge patch", message: message)
    }
}
