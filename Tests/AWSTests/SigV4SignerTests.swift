import Foundation
import Testing

@testable import AWS

/// One published signing example: the request, and what AWS says each stage must produce.
struct SigningVector: Sendable, CustomTestStringConvertible {
    var name: String
    var credentials: AWSCredentials
    var region: String
    var service: String
    var date: Date
    var request: AWSHTTPRequest
    var payloadHash: String? = nil
    var canonicalRequest: String
    /// `nil` where the source publishes only the signature.
    var stringToSign: String?
    var signature: String
    var signedHeaders: String

    var testDescription: String { name }
}

// MARK: - The facts

/// Inputs shared by the AWS SigV4 test suite (awslabs aws-signing-test-suite/v4, originally the
/// "Signature Version 4 test suite" in the AWS General Reference) and the IAM example.
enum SuiteFacts {
    static let credentials = AWSCredentials(
        accessKeyID: "AKIDEXAMPLE",
        secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
    )
    static let date = Date(timeIntervalSince1970: 1_440_938_160)  // 2015-08-30T12:36:00Z
    static let host = "example.amazonaws.com"
    static let emptyHash = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    static let stsToken =
        "AQoDYXdzEPT//////////wEXAMPLEtc764bNrC9SAPBSM22wDOk4x4HIZ8j4FZTwdQWLWsKWHGBuFqwAeMicRXmxfpSPfIeoIYRqTflfKD8YUuwthAx7mSEI/qkPpKPi/kMcGdQrmGdeehM4IC1NtBmUpp2wUE8phUZampKsburEDy0KPkyQDYwT7WZ0wq5VSXDvp75YU9HFvlRd8Tx6q6fE8YQcHNVXAkiY9q6d+xo0rKwT38xVqr7ZD0u0iPPkUL64lIZbqBAz+scqKmlzm8FDrypNC9Yjc8fPOLn9FX9KSYvKTr4rvx3iSIlTJabIQwj2ICCR/oLxBA=="

    /// A test-suite case against `example.amazonaws.com`, service `service`, us-east-1.
    static func vector(
        _ name: String,
        method: String = "GET",
        path: String = "/",
        query: [AWSHTTPRequest.QueryItem] = [],
        headers: [AWSHTTPRequest.Header] = [],
        body: String = "",
        token: String? = nil,
        canonicalRequest: String,
        stringToSign: String?,
        signature: String,
        signedHeaders: String = "host;x-amz-date"
    ) -> SigningVector {
        var credentials = credentials
        credentials.sessionToken = token
        return SigningVector(
            name: name,
            credentials: credentials,
            region: "us-east-1",
            service: "service",
            date: date,
            request: AWSHTTPRequest(method: method, host: host, path: path, query: query, headers: headers, body: Data(body.utf8)),
            canonicalRequest: canonicalRequest,
            stringToSign: stringToSign,
            signature: signature,
            signedHeaders: signedHeaders
        )
    }

    static func stringToSign(_ hash: String) -> String {
        "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\n\(hash)"
    }

    static let vectors: [SigningVector] = [
        vector(
            "get-vanilla",
            canonicalRequest: """
                GET
                /

                host:example.amazonaws.com
                x-amz-date:20150830T123600Z

                host;x-amz-date
                \(emptyHash)
                """,
            stringToSign: stringToSign("bb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63"),
            signature: "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"
        ),
        vector(
            "get-vanilla-query-order-key-case",
            query: [.init("Param2", "value2"), .init("Param1", "value1")],
            canonicalRequest: """
                GET
                /
                Param1=value1&Param2=value2
                host:example.amazonaws.com
                x-amz-date:20150830T123600Z

                host;x-amz-date
                \(emptyHash)
                """,
            stringToSign: stringToSign("816cd5b414d056048ba4f7c5386d6e0533120fb1fcfa93762cf0fc39e2cf19e0"),
            signature: "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500"
        ),
        vector(
            "get-vanilla-utf8-query",
            query: [.init("\u{1234}", "bar")],
            canonicalRequest: """
                GET
                /
                %E1%88%B4=bar
                host:example.amazonaws.com
                x-amz-date:20150830T123600Z

                host;x-amz-date
                \(emptyHash)
                """,
            stringToSign: stringToSign("eb30c5bed55734080471a834cc727ae56beb50e5f39d1bff6d0d38cb192a7073"),
            signature: "2cdec8eed098649ff3a119c94853b13c643bcf08f8b0a1d91e12c9027818dd04"
        ),
        vector(
            "get-vanilla-query-unreserved",
            query: [
                .init(
                    "-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz",
                    "-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                )
            ],
            canonicalRequest: """
                GET
                /
                -._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz=-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz
                host:example.amazonaws.com
                x-amz-date:20150830T123600Z

                host;x-amz-date
                \(emptyHash)
                """,
            stringToSign: stringToSign("c30d4703d9f799439be92736156d47ccfb2d879ddf56f5befa6d1d6aab979177"),
            signature: "9c3e54bfcdf0b19771a7f523ee5669cdf59bc7cc0884027167c21bb143a40197"
        ),
        vector(
            "get-unreserved",
            path: "/-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz",
            canonicalRequest: """
                GET
                /-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz

                host:example.amazonaws.com
                x-amz-date:20150830T123600Z

                host;x-amz-date
                \(emptyHash)
                """,
            stringToSign: stringToSign("6a968768eefaa713e2a6b16b589a8ea192661f098f37349f4e2c0082757446f9"),
            signature: "07ef7494c76fa4850883e2b006601f940f8a34d404d0cfa977f52a65bbf5f24f"
        ),
        vector(
            "get-utf8",
            path: "/\u{1234}",
            canonicalRequest: """
                GET
                /%E1%88%B4

                host:example.amazonaws.com
                x-amz-date:20150830T123600Z

                host;x-amz-date
                \(emptyHash)
                """,
            stringToSign: stringToSign("2a0a97d02205e45ce2e994789806b19270cfbbb0921b278ccf58f5249ac42102"),
            signature: "8318018e0b0f223aa2bbf98705b62bb787dc9c0e678f255a891fd03141be5d85"
        ),
        vector(
            "get-space",
            path: "/example space/",
            canonicalRequest: """
                GET
                /example%20space/

                host:example.amazonaws.com
                x-amz-date:20150830T123600Z

                host;x-amz-date
                \(emptyHash)
                """,
            stringToSign: stringToSign("63ee75631ed7234ae61b5f736dfc7754cdccfedbff4b5128a915706ee9390d86"),
            signature: "652487583200325589f1fba4c7e578f72c47cb61beeca81406b39ddec1366741"
        ),
        vector(
            "get-header-value-trim",
            headers: [.init("My-Header1", " value1"), .init("My-Header2", "\"a   b   c\"")],
            canonicalRequest: """
                GET
                /

                host:example.amazonaws.com
                my-header1:value1
                my-header2:"a b c"
                x-amz-date:20150830T123600Z

                host;my-header1;my-header2;x-amz-date
                \(emptyHash)
                """,
            stringToSign: stringToSign("a726db9b0df21c14f559d0a978e563112acb1b9e05476f0a6a1c7d68f28605c7"),
            signature: "acc3ed3afb60bb290fc8d2dd0098b9911fcaa05412b367055dee359757a9c736",
            signedHeaders: "host;my-header1;my-header2;x-amz-date"
        ),
        vector(
            "get-header-key-duplicate",
            headers: [.init("My-Header1", "value2"), .init("My-Header1", "value2"), .init("My-Header1", "value1")],
            canonicalRequest: """
                GET
                /

                host:example.amazonaws.com
                my-header1:value2,value2,value1
                x-amz-date:20150830T123600Z

                host;my-header1;x-amz-date
                \(emptyHash)
                """,
            stringToSign: stringToSign("dc7f04a3abfde8d472b0ab1a418b741b7c67174dad1551b4117b15527fbe966c"),
            signature: "c9d5ea9f3f72853aea855b47ea873832890dbdd183b4468f858259531a5138ea",
            signedHeaders: "host;my-header1;x-amz-date"
        ),
        vector(
            "get-relative-relative (normalised: not S3)",
            path: "/example1/example2/../..",
            canonicalRequest: """
                GET
                /

                host:example.amazonaws.com
                x-amz-date:20150830T123600Z

                host;x-amz-date
                \(emptyHash)
                """,
            stringToSign: stringToSign("bb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63"),
            signature: "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"
        ),
        vector(
            "get-slashes (normalised)",
            path: "//example//",
            canonicalRequest: """
                GET
                /example/

                host:example.amazonaws.com
                x-amz-date:20150830T123600Z

                host;x-amz-date
                \(emptyHash)
                """,
            stringToSign: stringToSign("cb96b4ac96d501f7c5c15bc6d67b3035061cfced4af6585ad927f7e6c985c015"),
            signature: "9a624bd73a37c9a373b5312afbebe7a714a789de108f0bdfe846570885f57e84"
        ),
        vector(
            "get-slash-dot-slash (normalised)",
            path: "/./",
            canonicalRequest: """
                GET
                /

                host:example.amazonaws.com
                x-amz-date:20150830T123600Z

                host;x-amz-date
                \(emptyHash)
                """,
            stringToSign: stringToSign("bb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63"),
            signature: "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"
        ),
        vector(
            "post-vanilla-empty-query-value",
            method: "POST",
            query: [.init("Param1", "value1")],
            canonicalRequest: """
                POST
                /
                Param1=value1
                host:example.amazonaws.com
                x-amz-date:20150830T123600Z

                host;x-amz-date
                \(emptyHash)
                """,
            stringToSign: stringToSign("9d659678c1756bb3113e2ce898845a0a79dbbc57b740555917687f1b3340fbbd"),
            signature: "28038455d6de14eafc1f9222cf5aa6f1a96197d7deb8263271d420d138af7f11"
        ),
        vector(
            "post-header-key-sort",
            method: "POST",
            headers: [.init("My-Header1", "value1")],
            canonicalRequest: """
                POST
                /

                host:example.amazonaws.com
                my-header1:value1
                x-amz-date:20150830T123600Z

                host;my-header1;x-amz-date
                \(emptyHash)
                """,
            stringToSign: stringToSign("9368318c2967cf6de74404b30c65a91e8f6253e0a8659d6d5319f1a812f87d65"),
            signature: "c5410059b04c1ee005303aed430f6e6645f61f4dc9e1461ec8f8916fdf18852c",
            signedHeaders: "host;my-header1;x-amz-date"
        ),
        vector(
            "post-x-www-form-urlencoded (2015 suite)",
            method: "POST",
            headers: [.init("Content-Type", "application/x-www-form-urlencoded")],
            body: "Param1=value1",
            canonicalRequest: """
                POST
                /

                content-type:application/x-www-form-urlencoded
                host:example.amazonaws.com
                x-amz-date:20150830T123600Z

                content-type;host;x-amz-date
                9095672bbd1f56dfc5b65f3e153adc8731a4a654192329106275f4c7b24d0b6e
                """,
            stringToSign: nil,
            signature: "ff11897932ad3f4e8b18135d722051e5ac45fc38421b1da7b9d196a0fe09473a",
            signedHeaders: "content-type;host;x-amz-date"
        ),
        vector(
            "post-x-www-form-urlencoded (aws-c-auth, body hash header signed)",
            method: "POST",
            headers: [
                .init("Content-Type", "application/x-www-form-urlencoded"),
                .init("Content-Length", "13"),
                .init("X-Amz-Content-Sha256", "9095672bbd1f56dfc5b65f3e153adc8731a4a654192329106275f4c7b24d0b6e"),
            ],
            body: "Param1=value1",
            canonicalRequest: """
                POST
                /

                content-length:13
                content-type:application/x-www-form-urlencoded
                host:example.amazonaws.com
                x-amz-content-sha256:9095672bbd1f56dfc5b65f3e153adc8731a4a654192329106275f4c7b24d0b6e
                x-amz-date:20150830T123600Z

                content-length;content-type;host;x-amz-content-sha256;x-amz-date
                9095672bbd1f56dfc5b65f3e153adc8731a4a654192329106275f4c7b24d0b6e
                """,
            stringToSign: stringToSign("b1edd1d03544c25390e32085d55b57acc9a3961bb59415ff86c45c3d89d16cfb"),
            signature: "d3875051da38690788ef43de4db0d8f280229d82040bfac253562e56c3f20e0b",
            signedHeaders: "content-length;content-type;host;x-amz-content-sha256;x-amz-date"
        ),
        vector(
            "post-sts-header-before",
            method: "POST",
            token: stsToken,
            canonicalRequest: """
                POST
                /

                host:example.amazonaws.com
                x-amz-date:20150830T123600Z
                x-amz-security-token:\(stsToken)

                host;x-amz-date;x-amz-security-token
                \(emptyHash)
                """,
            stringToSign: stringToSign("c237e1b440d4c63c32ca95b5b99481081cb7b13c7e40434868e71567c1a882f6"),
            signature: "85d96828115b5dc0cfc3bd16ad9e210dd772bbebba041836c64533a82be05ead",
            signedHeaders: "host;x-amz-date;x-amz-security-token"
        ),
        vector(
            "get-vanilla-with-session-token",
            token: "6e86291e8372ff2a2260956d9b8aae1d763fbf315fa00fa31553b73ebf194267",
            canonicalRequest: """
                GET
                /

                host:example.amazonaws.com
                x-amz-date:20150830T123600Z
                x-amz-security-token:6e86291e8372ff2a2260956d9b8aae1d763fbf315fa00fa31553b73ebf194267

                host;x-amz-date;x-amz-security-token
                \(emptyHash)
                """,
            stringToSign: stringToSign("067b36aa60031588cea4a4cde1f21215227a047690c72247f1d70b32fbbfad2b"),
            signature: "07ec1639c89043aa0e3e2de82b96708f198cceab042d4a97044c66dd9f74e7f8",
            signedHeaders: "host;x-amz-date;x-amz-security-token"
        ),
    ]
}

/// The S3 examples of "Signature Calculations for the Authorization Header: Transferring Payload in a
/// Single Chunk" (Amazon S3 API Reference): bucket `examplebucket`, us-east-1, 2013-05-24.
enum S3DocsFacts {
    static let credentials = AWSCredentials(
        accessKeyID: "AKIAIOSFODNN7EXAMPLE",
        secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
    )
    static let date = Date(timeIntervalSince1970: 1_369_353_600)  // 2013-05-24T00:00:00Z
    static let host = "examplebucket.s3.amazonaws.com"
    static let emptyHash = SuiteFacts.emptyHash
    static let putBodyHash = "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072"

    static func stringToSign(_ hash: String) -> String {
        "AWS4-HMAC-SHA256\n20130524T000000Z\n20130524/us-east-1/s3/aws4_request\n\(hash)"
    }

    static func vector(
        _ name: String,
        method: String,
        path: String,
        query: [AWSHTTPRequest.QueryItem] = [],
        headers: [AWSHTTPRequest.Header] = [],
        body: String = "",
        canonicalRequest: String,
        canonicalHash: String,
        signature: String,
        signedHeaders: String
    ) -> SigningVector {
        SigningVector(
            name: name,
            credentials: credentials,
            region: "us-east-1",
            service: "s3",
            date: date,
            request: AWSHTTPRequest(method: method, host: host, path: path, query: query, headers: headers, body: Data(body.utf8)),
            canonicalRequest: canonicalRequest,
            stringToSign: stringToSign(canonicalHash),
            signature: signature,
            signedHeaders: signedHeaders
        )
    }

    static let vectors: [SigningVector] = [
        vector(
            "S3 GET Object with Range",
            method: "GET",
            path: "/test.txt",
            headers: [.init("Range", "bytes=0-9")],
            canonicalRequest: """
                GET
                /test.txt

                host:examplebucket.s3.amazonaws.com
                range:bytes=0-9
                x-amz-content-sha256:\(emptyHash)
                x-amz-date:20130524T000000Z

                host;range;x-amz-content-sha256;x-amz-date
                \(emptyHash)
                """,
            canonicalHash: "7344ae5b7ee6c3e7e6b0fe0640412a37625d1fbfff95c48bbb2dc43964946972",
            signature: "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41",
            signedHeaders: "host;range;x-amz-content-sha256;x-amz-date"
        ),
        vector(
            "S3 PUT Object",
            method: "PUT",
            path: "/test%24file.text",
            headers: [.init("Date", "Fri, 24 May 2013 00:00:00 GMT"), .init("x-amz-storage-class", "REDUCED_REDUNDANCY")],
            body: "Welcome to Amazon S3.",
            canonicalRequest: """
                PUT
                /test%24file.text

                date:Fri, 24 May 2013 00:00:00 GMT
                host:examplebucket.s3.amazonaws.com
                x-amz-content-sha256:\(putBodyHash)
                x-amz-date:20130524T000000Z
                x-amz-storage-class:REDUCED_REDUNDANCY

                date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class
                \(putBodyHash)
                """,
            canonicalHash: "9e0e90d9c76de8fa5b200d8c849cd5b8dc7a3be3951ddb7f6a76b4158342019d",
            signature: "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd",
            signedHeaders: "date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class"
        ),
        vector(
            "S3 GET Bucket Lifecycle",
            method: "GET",
            path: "/",
            query: [.init("lifecycle", nil)],
            canonicalRequest: """
                GET
                /
                lifecycle=
                host:examplebucket.s3.amazonaws.com
                x-amz-content-sha256:\(emptyHash)
                x-amz-date:20130524T000000Z

                host;x-amz-content-sha256;x-amz-date
                \(emptyHash)
                """,
            canonicalHash: "9766c798316ff2757b517bc739a67f6213b4ab36dd5da2f94eaebf79c77395ca",
            signature: "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543",
            signedHeaders: "host;x-amz-content-sha256;x-amz-date"
        ),
        vector(
            "S3 GET Bucket (List Objects)",
            method: "GET",
            path: "/",
            query: [.init("prefix", "J"), .init("max-keys", "2")],
            canonicalRequest: """
                GET
                /
                max-keys=2&prefix=J
                host:examplebucket.s3.amazonaws.com
                x-amz-content-sha256:\(emptyHash)
                x-amz-date:20130524T000000Z

                host;x-amz-content-sha256;x-amz-date
                \(emptyHash)
                """,
            canonicalHash: "df57d21db20da04d7fa30298dd4488ba3a2b47ca3a489c74750e0f1e7df1b9b7",
            signature: "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7",
            signedHeaders: "host;x-amz-content-sha256;x-amz-date"
        ),
    ]
}

// MARK: - Tests

@Suite("SigV4Signer: AWS published vectors")
struct SigV4PublishedVectorTests {
    @Test("test suite and S3 documentation examples", arguments: SuiteFacts.vectors + S3DocsFacts.vectors)
    func publishedVector(_ vector: SigningVector) {
        let signer = SigV4Signer(credentials: vector.credentials, region: vector.region, service: vector.service)
        let result = signer.sign(vector.request, payloadHash: vector.payloadHash, date: vector.date)
        #expect(result.canonicalRequest == vector.canonicalRequest)
        if let stringToSign = vector.stringToSign {
            #expect(result.stringToSign == stringToSign)
        }
        #expect(result.signature == vector.signature)
        #expect(result.signedHeaders == vector.signedHeaders)
        let scope = "\(SigV4Signer.amzDate(vector.date).prefix(8))/\(vector.region)/\(vector.service)/aws4_request"
        #expect(
            result.authorization
                == "AWS4-HMAC-SHA256 Credential=\(vector.credentials.accessKeyID)/\(scope), "
                + "SignedHeaders=\(vector.signedHeaders), Signature=\(vector.signature)"
        )
    }

    /// The worked example of the IAM User Guide ("Create a signed AWS API request"), built from a URL.
    @Test("IAM ListUsers example, stage by stage")
    func iamListUsers() throws {
        let url = try #require(URL(string: "https://iam.amazonaws.com/?Action=ListUsers&Version=2010-05-08"))
        let request = try AWSHTTPRequest(
            method: "GET",
            url: url,
            headers: [.init("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")]
        )
        let signer = SigV4Signer(credentials: SuiteFacts.credentials, region: "us-east-1", service: "iam")
        let result = signer.sign(request, date: SuiteFacts.date)
        #expect(
            result.canonicalRequest == """
                GET
                /
                Action=ListUsers&Version=2010-05-08
                content-type:application/x-www-form-urlencoded; charset=utf-8
                host:iam.amazonaws.com
                x-amz-date:20150830T123600Z

                content-type;host;x-amz-date
                e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855
                """
        )
        #expect(SigV4Signer.sha256Hex(Data(result.canonicalRequest.utf8)) == "f536975d06c0309214f805bb90ccff089219ecd68b2577efef23edd43b7e1a59")
        #expect(
            result.stringToSign == """
                AWS4-HMAC-SHA256
                20150830T123600Z
                20150830/us-east-1/iam/aws4_request
                f536975d06c0309214f805bb90ccff089219ecd68b2577efef23edd43b7e1a59
                """
        )
        let key = SigV4Signer.signingKey(
            secretAccessKey: SuiteFacts.credentials.secretAccessKey,
            dateStamp: "20150830",
            region: "us-east-1",
            service: "iam"
        )
        #expect(SigV4Signer.hex(key) == "c4afb1cc5771d871763a393e44b703571b55cc28424d1a5e86da6ed3c154a4b9")
        #expect(result.signature == "5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7")
        #expect(
            result.authorization
                == "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/iam/aws4_request, "
                + "SignedHeaders=content-type;host;x-amz-date, Signature=5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7"
        )
    }

    /// The documented PUT example again, but with the request built by `S3Addressing` from the raw key
    /// `test$file.text`: the key encoding and the signer agree with AWS.
    @Test("S3 PUT example through S3Addressing")
    func putThroughAddressing() throws {
        let addressing = try S3Addressing(region: "us-east-1")
        var request = addressing.putObject(bucket: "examplebucket", key: "test$file.text", body: Data("Welcome to Amazon S3.".utf8))
        #expect(request.host == "examplebucket.s3.us-east-1.amazonaws.com")
        #expect(request.path == "/test%24file.text")
        request.host = S3DocsFacts.host  // the example uses the legacy global endpoint
        request.headers += [.init("Date", "Fri, 24 May 2013 00:00:00 GMT"), .init("x-amz-storage-class", "REDUCED_REDUNDANCY")]
        let signer = SigV4Signer(credentials: S3DocsFacts.credentials, region: "us-east-1", service: "s3")
        let result = signer.sign(request, date: S3DocsFacts.date)
        #expect(result.signature == "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd")
    }
}

@Suite("SigV4Signer: behaviour")
struct SigV4SignerBehaviourTests {
    let s3 = SigV4Signer(credentials: S3DocsFacts.credentials, region: "us-east-1", service: "s3")
    let ssm = SigV4Signer(credentials: SuiteFacts.credentials, region: "eu-west-1", service: "ssm")

    @Test("S3 signs the path as sent: no normalisation, no second encoding")
    func s3PathIsNotNormalised() {
        #expect(s3.canonicalURI("/a/./b/../c//d") == "/a/./b/../c//d")
        #expect(s3.canonicalURI("/key%20with%20spaces") == "/key%20with%20spaces")
        #expect(s3.canonicalURI("") == "/")
    }

    @Test("other services normalise the path and encode it again")
    func otherServicesDoubleEncode() {
        #expect(ssm.canonicalURI("/a/./b/../c//d") == "/a/c/d")
        #expect(ssm.canonicalURI("/key%20with%20spaces") == "/key%2520with%2520spaces")
        #expect(ssm.canonicalURI("/example1/example2/../..") == "/")
        #expect(ssm.canonicalURI("/a/b/") == "/a/b/")
    }

    @Test("added headers: date, S3 content hash, token, Authorization last")
    func addedHeaders() {
        var credentials = S3DocsFacts.credentials
        credentials.sessionToken = "TOKEN"
        let signer = SigV4Signer(credentials: credentials, region: "us-east-1", service: "s3")
        let request = AWSHTTPRequest(method: "GET", host: "b.s3.us-east-1.amazonaws.com", path: "/k")
        let result = signer.sign(request, payloadHash: SigV4Signer.unsignedPayload, date: S3DocsFacts.date)
        #expect(result.headers.map(\.name) == ["X-Amz-Date", "x-amz-content-sha256", "X-Amz-Security-Token", "Authorization"])
        #expect(result.headers.first { $0.name == "x-amz-content-sha256" }?.value == "UNSIGNED-PAYLOAD")
        #expect(result.canonicalRequest.hasSuffix("\nUNSIGNED-PAYLOAD"))
        #expect(result.signedHeaders == "host;x-amz-content-sha256;x-amz-date;x-amz-security-token")
    }

    @Test("non-S3 services get no x-amz-content-sha256 header")
    func noContentHashForSSM() {
        let request = AWSHTTPRequest(method: "POST", host: "ssm.eu-west-1.amazonaws.com", body: Data("{}".utf8))
        let result = ssm.sign(request, date: SuiteFacts.date)
        #expect(result.headers.map(\.name) == ["X-Amz-Date", "Authorization"])
        #expect(result.payloadHash == SigV4Signer.sha256Hex(Data("{}".utf8)))
    }

    @Test("signing again replaces the old signature instead of signing it")
    func resigning() {
        let request = AWSHTTPRequest(method: "GET", host: "b.s3.us-east-1.amazonaws.com", path: "/k")
        let once = s3.signed(request, date: S3DocsFacts.date)
        let twice = s3.signed(once, date: S3DocsFacts.date.addingTimeInterval(60))
        #expect(twice.headerValues(named: "authorization").count == 1)
        #expect(twice.headerValues(named: "x-amz-date") == ["20130524T000100Z"])
        #expect(s3.sign(once, date: S3DocsFacts.date).canonicalRequest == s3.sign(request, date: S3DocsFacts.date).canonicalRequest)
    }

    @Test("hop-by-hop and client headers are left out of the signature")
    func unsignedHeaders() {
        let request = AWSHTTPRequest(
            method: "GET",
            host: "b.s3.us-east-1.amazonaws.com",
            path: "/k",
            headers: [.init("User-Agent", "longhorn-dr/1.0"), .init("Expect", "100-continue"), .init("X-Custom", "v")]
        )
        #expect(s3.sign(request, date: S3DocsFacts.date).signedHeaders == "host;x-amz-content-sha256;x-amz-date;x-custom")
    }

    @Test("a non-default port is part of the signed host")
    func hostWithPort() {
        let request = AWSHTTPRequest(method: "GET", scheme: "http", host: "MinIO.local", port: 9000, path: "/bucket/key")
        #expect(request.hostHeader == "minio.local:9000")
        #expect(s3.sign(request, date: S3DocsFacts.date).canonicalRequest.contains("\nhost:minio.local:9000\n"))
        let defaultPort = AWSHTTPRequest(method: "GET", scheme: "https", host: "s3.example", port: 443)
        #expect(defaultPort.hostHeader == "s3.example")
    }

    @Test(
        "X-Amz-Date is UTC, whole seconds",
        arguments: [
            (1_709_251_199.9, "20240229T235959Z"),
            (951_868_800, "20000301T000000Z"),
            (0, "19700101T000000Z"),
            (-1, "19691231T235959Z"),
            (4_133_937_600, "21001231T120000Z"),
        ] as [(Double, String)]
    )
    func amzDate(seconds: Double, expected: String) {
        #expect(SigV4Signer.amzDate(Date(timeIntervalSince1970: seconds)) == expected)
    }

    @Test("header values: trimmed, inner runs of whitespace collapsed")
    func trimAll() {
        #expect(SigV4Signer.trimAll("  a   b \t c  ") == "a b c")
        #expect(SigV4Signer.trimAll("") == "")
    }
}

@Suite("AWSURIEncoding")
struct AWSURIEncodingTests {
    @Test(
        "encodes everything but A-Z a-z 0-9 - _ . ~",
        arguments: [
            ("abcXYZ019-_.~", false, "abcXYZ019-_.~"),
            ("a b", false, "a%20b"),
            ("a/b", false, "a%2Fb"),
            ("a/b", true, "a/b"),
            ("$&+,:;=?@!*'()", false, "%24%26%2B%2C%3A%3B%3D%3F%40%21%2A%27%28%29"),
            ("%", false, "%25"),
            ("é", false, "%C3%A9"),
            ("\u{1234}", true, "%E1%88%B4"),
            ("backupstore/volumes/ab/cd/pvc-1/volume.cfg", true, "backupstore/volumes/ab/cd/pvc-1/volume.cfg"),
        ] as [(String, Bool, String)]
    )
    func encode(input: String, keepSlash: Bool, expected: String) {
        #expect(AWSURIEncoding.encode(input, keepSlash: keepSlash) == expected)
    }

    @Test("canonical query: encoded, sorted by name then value, repeated and empty keys kept")
    func canonicalQuery() {
        let query = AWSURIEncoding.canonicalQuery([
            .init("b", "2"), .init("a", "z"), .init("a", "y"), .init("empty", ""), .init("bare", nil),
            .init("a b", "c d"), .init("A", "upper"),
        ])
        #expect(query == "A=upper&a=y&a=z&a%20b=c%20d&b=2&bare=&empty=")
    }

    @Test("decode is the inverse of encode, and handles + as space on request")
    func decode() {
        #expect(AWSURIEncoding.decode("a%20b%2Fc") == "a b/c")
        #expect(AWSURIEncoding.decode("a+b%2B") == "a+b+")
        #expect(AWSURIEncoding.decode("a+b%2B", plusIsSpace: true) == "a b+")
        #expect(AWSURIEncoding.decode("100%") == "100%")
        #expect(AWSURIEncoding.decode("%E1%88%B4") == "\u{1234}")
    }

    @Test("AWSHTTPRequest from a URL keeps the wire path and decodes the query")
    func requestFromURL() throws {
        let url = try #require(URL(string: "https://b.s3.amazonaws.com/a%20b/c?list-type=2&prefix=x%2Fy&flag"))
        let request = try AWSHTTPRequest(method: "GET", url: url)
        #expect(request.path == "/a%20b/c")
        #expect(request.query == [.init("list-type", "2"), .init("prefix", "x/y"), .init("flag", nil)])
        #expect(request.url?.absoluteString == "https://b.s3.amazonaws.com/a%20b/c?flag=&list-type=2&prefix=x%2Fy")
    }

    @Test("a URL without a host is rejected with the URL named")
    func urlWithoutHost() throws {
        let url = try #require(URL(string: "file:///tmp/x"))
        let error = #expect(throws: AWSError.self) { try AWSHTTPRequest(method: "GET", url: url) }
        #expect(error?.code == .invalidRequest)
        #expect(error?.description.contains("file:///tmp/x") == true)
    }
}

/// What a signature or a Longhorn Secret shows when printed, dumped or interpolated.
@Suite struct RedactionTests {
    @Test func aSignatureNeverPrintsItsTokenOrAuthorization() throws {
        let credentials = AWSCredentials(accessKeyID: "AKIDEXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG", sessionToken: "SESSION-TOKEN-XYZ")
        let request = try AWSHTTPRequest(method: "GET", url: try #require(URL(string: "https://s3.amazonaws.com/bucket/key")))
        let signature = SigV4Signer(credentials: credentials, region: "us-east-1", service: "s3").sign(request, date: SuiteFacts.date)
        #expect(signature.authorization.contains("Signature="), "the value itself is intact")
        var dumped = ""
        dump(signature, to: &dumped)
        for text in ["\(signature)", String(reflecting: signature), dumped] {
            #expect(!text.contains("SESSION-TOKEN-XYZ") && !text.contains(signature.signature), "\(text)")
        }
    }
}
