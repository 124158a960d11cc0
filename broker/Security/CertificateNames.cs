using System.Formats.Asn1;
using System.Security.Cryptography.X509Certificates;

namespace EventStream.Broker.Security;

/// <summary>The principal a client certificate names (<see cref="MutualTlsOptions.PrincipalFrom"/>).</summary>
internal static class CertificateNames
{
    private const string SubjectAlternativeNameOid = "2.5.29.17";

    /// <summary>The principal, or null when the certificate lacks the chosen name.</summary>
    public static string? PrincipalOf(X509Certificate2 certificate, CertificatePrincipal from) => from switch
    {
        CertificatePrincipal.CommonName => Empty(certificate.GetNameInfo(X509NameType.SimpleName, forIssuer: false)),
        CertificatePrincipal.Subject => Empty(certificate.Subject),
        CertificatePrincipal.DnsName => AlternativeNames(certificate).DnsNames.FirstOrDefault(),
        CertificatePrincipal.Uri => AlternativeNames(certificate).Uris.FirstOrDefault(),
        _ => null,
    };

    private static string? Empty(string? value) => string.IsNullOrWhiteSpace(value) ? null : value;

    private static (List<string> DnsNames, List<string> Uris) AlternativeNames(X509Certificate2 certificate)
    {
        var (dns, uris) = (new List<string>(), new List<string>());
        if (certificate.Extensions[SubjectAlternativeNameOid] is not { } extension)
        {
            return (dns, uris);
        }
        // GeneralNames ::= SEQUENCE OF GeneralName; dNSName [2] IA5String, uniformResourceIdentifier [6] IA5String.
        var reader = new AsnReader(extension.RawData, AsnEncodingRules.DER).ReadSequence();
        while (reader.HasData)
        {
            var tag = reader.PeekTag();
            if (tag.TagClass == TagClass.ContextSpecific && tag.TagValue is 2 or 6)
            {
                var value = reader.ReadCharacterString(UniversalTagNumber.IA5String, tag);
                (tag.TagValue == 2 ? dns : uris).Add(value);
            }
            else
            {
                reader.ReadEncodedValue();
            }
        }
        return (dns, uris);
    }
}
