/* Stand-ins for the libraries Debian ships no static archive of, linked only into the
 * portable binary (ci/package). libcurl references them for protocols and
 * authentication cairn never asks for: Kerberos/SPNEGO (GSS-API), ldap:// and rtmp://
 * URLs. Each call fails as the real library would refuse: GSS_S_FAILURE, LDAP_OTHER, a
 * null handle, so such a request ends in a curl error, never a crash. The signatures are
 * left out on purpose: on x86-64 a function that ignores its arguments and returns a
 * value in rax serves every caller of these. */
#define GSS_S_FAILURE (13L << 16)
#define LDAP_OTHER 0x50L
#define GSS(name) long name(void) { return GSS_S_FAILURE; }
#define LDAP(name) long name(void) { return LDAP_OTHER; }
#define NONE(name) long name(void) { return 0; }

void* GSS_C_NT_HOSTBASED_SERVICE = 0;
GSS(gss_delete_sec_context) GSS(gss_display_name) GSS(gss_display_status) GSS(gss_import_name)
GSS(gss_indicate_mechs) GSS(gss_init_sec_context) GSS(gss_inquire_context) GSS(gss_release_buffer)
GSS(gss_release_name) GSS(gss_release_oid_set) GSS(gss_unwrap) GSS(gss_wrap)

LDAP(ldap_abandon_ext) LDAP(ldap_get_option) LDAP(ldap_init_fd) LDAP(ldap_msgfree) LDAP(ldap_parse_result)
LDAP(ldap_parse_sasl_bind_result) LDAP(ldap_pvt_url_scheme2proto) LDAP(ldap_result) LDAP(ldap_sasl_bind)
LDAP(ldap_search_ext) LDAP(ldap_set_option) LDAP(ldap_start_tls) LDAP(ldap_unbind_ext) LDAP(ldap_url_parse)
LDAP(ldap_msgtype)
NONE(ldap_get_attribute_ber) NONE(ldap_get_dn_ber) NONE(ldap_memfree) NONE(ldap_free_urldesc)
NONE(ber_bvfree) NONE(ber_free) NONE(ber_memfree) NONE(ber_sockbuf_add_io)
const char* ldap_err2string(int err) { (void)err; return "LDAP is not supported by the portable cairn"; }

NONE(RTMP_Alloc) NONE(RTMP_Close) NONE(RTMP_Connect1) NONE(RTMP_ConnectStream) NONE(RTMP_Free) NONE(RTMP_Init)
NONE(RTMP_Read) NONE(RTMP_SetBufferMS) NONE(RTMP_SetupURL) NONE(RTMP_Write)
