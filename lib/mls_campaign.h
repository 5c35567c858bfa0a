#ifndef MLS_CAMPAIGN_H
#define MLS_CAMPAIGN_H
/* placeholder: to be written */
#endif
