/// The naming rules Kubernetes and Longhorn enforce, checked before anything is sent.
public enum KubernetesName {
    /// Longhorn silently shortens longer volume names (`NameMaximumLength`), which would break the
    /// volume ↔ backup ↔ PV mapping, so we refuse them instead.
    public static let longhornVolumeMaxLength = 40

    /// Why `name` is not a DNS-1123 label (namespaces, Longhorn volumes), or nil if it is one.
    public static func labelProblem(_ name: String, maxLength: Int = 63) -> String? {
        if name.isEmpty { return "must not be empty" }
        if name.count > maxLength { return "is \(name.count) characters long, at most \(maxLength) allowed" }
        if let bad = name.first(where: { !isLabelCharacter($0) }) {
            return "contains '\(bad)'; only lowercase letters, digits and '-' are allowed"
        }
        if name.first == "-" || name.last == "-" { return "must start and end with a letter or digit" }
        return nil
    }

    /// Why `name` is not a DNS-1123 subdomain (most object names), or nil if it is one.
    public static func subdomainProblem(_ name: String) -> String? {
        if name.isEmpty { return "must not be empty" }
        if name.count > 253 { return "is \(name.count) characters long, at most 253 allowed" }
        for part in name.split(separator: ".", omittingEmptySubsequences: false) {
            if part.isEmpty { return "has an empty part between dots" }
            if let bad = part.first(where: { !isLabelCharacter($0) }) {
                return "contains '\(bad)'; only lowercase letters, digits, '-' and '.' are allowed"
            }
            if part.first == "-" || part.last == "-" { return "each dot-separated part must start and end with a letter or digit" }
        }
        return nil
    }

    private static func isLabelCharacter(_ c: Character) -> Bool {
        c == "-" || ("a"..."z").contains(c) || ("0"..."9").contains(c)
    }
}
