/**
 * The XML the IMS nodes exchange in SIP and Diameter bodies: a small, strict, bounded reader and
 * writer (no DTD, no entity expansion; size, depth and element count capped). Its two documents
 * live with their protocols: RFC 3680 reginfo in sip/reginfo/, the TS 29.228 Annex E IMS
 * subscription (Cx User-Data) in diameter/cx/. Pure.
 */
export { parseXml, XmlParseError, localName, attr, childElement, childElements, textOf, escapeXml, DEFAULT_XML_LIMITS, type XmlElement, type XmlLimits } from './xml.js';
